//! Any text: answer keys, normalization and fingerprints never panic and keep their shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smoa_core_rs::answer_key::answer_key;
use smoa_core_rs::normalize::{fingerprint, normalize};

fuzz_target!(|text: &str| {
    let key = answer_key(text);
    assert_eq!(key, answer_key(text));
    assert!(key.is_none_or(|k| !k.is_empty()));
    let norm = normalize(text);
    assert!(!norm.starts_with(' ') && !norm.ends_with(' ') && !norm.contains("  "));
    assert!(norm.chars().all(|c| c == ' ' || c.is_alphanumeric()));
    assert_eq!(fingerprint(text), fingerprint(&norm));
});
