//! Shingle sets: a text as the sorted set of hashes of its word or character n-grams.

use crate::normalize::normalize;
use xxhash_rust::xxh3::xxh3_64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShingleKind {
    Word,
    Char,
}

impl ShingleKind {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "word" => Some(Self::Word),
            "char" => Some(Self::Char),
            _ => None,
        }
    }
}

/// Sorted, deduplicated 64-bit hashes of the text's n-grams. A text shorter than `n` is one shingle; a text
/// that normalizes to nothing has none.
pub fn shingles(text: &str, kind: ShingleKind, n: usize) -> Vec<u64> {
    let norm = normalize(text);
    if norm.is_empty() {
        return Vec::new();
    }
    // Both kinds of n-gram are contiguous substrings of the normalized text (tokens are separated by
    // exactly one space), so hashing byte ranges needs no joined copies.
    let bounds: Vec<(usize, usize)> = match kind {
        ShingleKind::Word => {
            let mut start = 0;
            norm.split(' ')
                .map(|tok| {
                    let b = (start, start + tok.len());
                    start += tok.len() + 1;
                    b
                })
                .collect()
        }
        ShingleKind::Char => norm.char_indices().map(|(i, c)| (i, i + c.len_utf8())).collect(),
    };
    let mut set: Vec<u64> = if bounds.len() <= n {
        vec![xxh3_64(norm.as_bytes())]
    } else {
        bounds.windows(n).map(|w| xxh3_64(&norm.as_bytes()[w[0].0..w[n - 1].1])).collect()
    };
    set.sort_unstable();
    set.dedup();
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_shingles_count_distinct_ngrams() {
        assert_eq!(shingles("a b c d", ShingleKind::Word, 3).len(), 2);
        assert_eq!(shingles("a b a b a b", ShingleKind::Word, 2).len(), 2);
    }

    #[test]
    fn short_text_is_one_shingle_and_empty_has_none() {
        assert_eq!(shingles("only two", ShingleKind::Word, 3).len(), 1);
        assert_eq!(shingles("ab", ShingleKind::Char, 3).len(), 1);
        assert!(shingles("?!", ShingleKind::Word, 3).is_empty());
    }

    #[test]
    fn char_shingles_span_multibyte_characters() {
        assert_eq!(shingles("héllo", ShingleKind::Char, 2).len(), 4);
    }

    #[test]
    fn surface_form_does_not_change_shingles() {
        assert_eq!(
            shingles("The cat, sat ON the mat.", ShingleKind::Word, 3),
            shingles("the cat sat on the mat", ShingleKind::Word, 3)
        );
    }
}
