//! Text normalization and fingerprints: the identity two answers must share to count as the same answer.

use caseless::Caseless;
use unicode_normalization::UnicodeNormalization;
use xxhash_rust::xxh3::xxh3_128;

/// NFKC, full case folding, and every run of non-alphanumerics (markdown, punctuation, symbols,
/// whitespace) collapsed to one space, without leading or trailing space.
pub fn normalize(text: &str) -> String {
    let mut out = Tokens { out: String::with_capacity(text.len()), gap: false };
    // Model output is mostly ASCII with the odd curly quote or dash. NFKC is the identity on ASCII and
    // case folding is lowercasing there, so only the non-ASCII stretches go through the Unicode tables.
    // A stretch starts one character early, because a combining mark composes with the character
    // before it; it ends at the next ASCII character, since no composition takes an ASCII second part.
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < text.len() {
        let Some(offset) = bytes[at..].iter().position(|b| !b.is_ascii()) else {
            out.push_ascii(&text[at..]);
            break;
        };
        let non_ascii = at + offset;
        let unicode_from = if non_ascii > at { non_ascii - 1 } else { at };
        out.push_ascii(&text[at..unicode_from]);
        let unicode_to =
            bytes[non_ascii..].iter().position(u8::is_ascii).map_or(text.len(), |p| non_ascii + p);
        out.push_chars(text[unicode_from..unicode_to].nfkc().default_case_fold());
        at = unicode_to;
    }
    out.out
}

/// The normalized text being written: alphanumerics, one space per gap between them.
struct Tokens {
    out: String,
    gap: bool,
}

impl Tokens {
    fn push_ascii(&mut self, ascii: &str) {
        self.push_chars(ascii.bytes().map(|b| b.to_ascii_lowercase() as char));
    }

    fn push_chars(&mut self, chars: impl Iterator<Item = char>) {
        for c in chars {
            if c.is_alphanumeric() {
                if self.gap && !self.out.is_empty() {
                    self.out.push(' ');
                }
                self.gap = false;
                self.out.push(c);
            } else {
                self.gap = true;
            }
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

    /// The definition, without the ASCII shortcut: the whole text through NFKC and case folding.
    fn normalize_whole(text: &str) -> String {
        let mut out = Tokens { out: String::new(), gap: false };
        out.push_chars(text.nfkc().default_case_fold());
        out.out
    }

    #[test]
    fn combining_marks_after_ascii_compose() {
        assert_eq!(normalize("cafe\u{301} Cafe\u{301}!"), "café café");
        assert_eq!(normalize("x\u{323}\u{301}y"), normalize_whole("x\u{323}\u{301}y"));
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ascii_shortcut_equals_the_definition(
            parts in proptest::collection::vec(
                prop_oneof![
                    "[a-zA-Z0-9 .,*_#-]{0,6}",
                    proptest::sample::select(vec![
                        "\u{301}", "\u{323}", "\u{308}", "é", "ß", "ﬁ", "Ａ", "²", "①", "—", "“", "K", "Ω", "ǅ", "ẞ", "\u{3099}", "か",
                    ]).prop_map(str::to_string),
                ],
                0..12,
            )
        ) {
            let text: String = parts.concat();
            prop_assert_eq!(normalize(&text), normalize_whole(&text));
        }
    }

    #[test]
    fn fingerprint_ignores_surface_form() {
        assert_eq!(fingerprint("Hello, World!"), fingerprint("hello world"));
        assert_ne!(fingerprint("hello world"), fingerprint("hello word"));
    }
}
