//! Text normalization and fingerprints: the identity two answers must share to count as the same answer.

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;
use xxhash_rust::xxh3::xxh3_128;

/// NFKC, full case folding, and every run of non-alphanumerics (markdown, punctuation, symbols,
/// whitespace) collapsed to one space, without leading or trailing space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.is_ascii() {
        // NFKC is the identity on ASCII and case folding is lowercasing: skip the Unicode tables.
        push_tokens(text.chars().map(|c| c.to_ascii_lowercase()), &mut out);
    } else {
        push_tokens(text.nfkc().default_case_fold(), &mut out);
    }
    out
}

fn push_tokens(chars: impl Iterator<Item = char>, out: &mut String) {
    let mut gap = false;
    for c in chars {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
}

/// 128-bit XXH3 of the normalized text.
pub fn fingerprint(text: &str) -> u128 {
    xxh3_128(normalize(text).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_markdown_case_and_spacing() {
        assert_eq!(normalize("  **The  Answer**:\n\t`42`!  "), "the answer 42");
        assert_eq!(normalize("# Title\n- item _one_"), "title item one");
    }

    #[test]
    fn applies_nfkc_and_case_folding() {
        assert_eq!(normalize("ﬁne ＡＢＣ"), "fine abc");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("x²"), "x2");
    }

    #[test]
    fn empty_and_punctuation_only_texts_normalize_to_empty() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("!?... --- ***"), "");
    }

    #[test]
    fn fingerprint_ignores_surface_form() {
        assert_eq!(fingerprint("Hello, World!"), fingerprint("hello world"));
        assert_ne!(fingerprint("hello world"), fingerprint("hello word"));
    }
}
