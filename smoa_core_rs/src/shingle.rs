//! Shingle sets: a text as the sorted set of hashes of its word or character n-grams.

use crate::alloc;
use crate::error::{CoreError, Result};
use crate::normalize::normalize;
use std::collections::HashMap;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

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
pub fn shingles(text: &str, kind: ShingleKind, n: usize) -> Result<Vec<u64>> {
    shingles_of_normalized(&normalize(text), kind, n)
}

/// `shingles` of an already normalized text. Both kinds of n-gram are contiguous substrings of it (word
/// tokens are separated by exactly one space), so an n-gram runs from the start of its first token to the
/// start of the token n places on, less the space, or to the end. The token starts and the set are the
/// allocations that grow with the text, and a refused one is an error, not an abort.
fn shingles_of_normalized(norm: &str, kind: ShingleKind, n: usize) -> Result<Vec<u64>> {
    if norm.is_empty() {
        return Ok(Vec::new());
    }
    let (starts, gap) = match kind {
        ShingleKind::Word => {
            let mut starts = alloc::with_capacity("text", norm.bytes().filter(|&b| b == b' ').count() + 1)?;
            starts.push(0);
            starts.extend(norm.match_indices(' ').map(|(i, _)| i + 1));
            (starts, 1)
        }
        ShingleKind::Char => (alloc::collect("text", norm.char_indices().map(|(i, _)| i))?, 0),
    };
    if starts.len() <= n {
        return Ok(vec![xxh3_64(norm.as_bytes())]);
    }
    let bytes = norm.as_bytes();
    let ends = starts[n..].iter().map(|&s| s - gap).chain(std::iter::once(norm.len()));
    let mut set = alloc::with_capacity("text", starts.len() - n + 1)?;
    set.extend(starts.iter().zip(ends).map(|(&start, end)| xxh3_64(&bytes[start..end])));
    set.sort_unstable();
    set.dedup();
    Ok(set)
}

/// The shingle sets of some texts, each distinct set stored once: texts that shingle alike (copies of one
/// answer, most often) share one set, so the memory follows the distinct content, not the text count.
pub struct ShingleSets {
    /// In order of first appearance.
    pub distinct: Vec<Vec<u64>>,
    /// Place in `distinct` of each text's set.
    pub of_text: Vec<usize>,
}

/// Shingles each text in turn, keeping its set only if it is new. Copies are found by the 128-bit
/// fingerprint of the normalized text and confirmed by comparing the sets, so a fingerprint collision can
/// never merge two different texts. A refused allocation is named after its text.
pub fn shingle_sets<S: AsRef<str>>(texts: &[S], kind: ShingleKind, ngram: usize) -> Result<ShingleSets> {
    let mut first: HashMap<u128, usize> = HashMap::new();
    let mut distinct: Vec<Vec<u64>> = Vec::new();
    let mut of_text = alloc::with_capacity("texts", texts.len())?;
    for (i, t) in texts.iter().enumerate() {
        let norm = normalize(t.as_ref());
        let set = shingles_of_normalized(&norm, kind, ngram)
            .map_err(|e| CoreError { arg: format!("texts[{i}]"), ..e })?;
        let key = xxh3_128(norm.as_bytes());
        let place = match first.get(&key) {
            Some(&p) if distinct[p] == set => p,
            _ => {
                alloc::push(&mut distinct, "texts", set)?;
                first.entry(key).or_insert(distinct.len() - 1);
                distinct.len() - 1
            }
        };
        of_text.push(place);
    }
    Ok(ShingleSets { distinct, of_text })
}

pub fn validate_shingling(ngram: usize) -> Result<()> {
    if ngram == 0 {
        return Err(CoreError::out_of_range("ngram", "[1, ∞)", ngram));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str, kind: ShingleKind, n: usize) -> Vec<u64> {
        shingles(text, kind, n).unwrap()
    }

    /// The definition: hash every window of n tokens of the normalized text, joined as they stand.
    fn by_windows(text: &str, kind: ShingleKind, n: usize) -> Vec<u64> {
        let norm = normalize(text);
        let tokens: Vec<&str> = match kind {
            ShingleKind::Word if norm.is_empty() => vec![],
            ShingleKind::Word => norm.split(' ').collect(),
            ShingleKind::Char => norm.char_indices().map(|(i, c)| &norm[i..i + c.len_utf8()]).collect(),
        };
        let sep = if kind == ShingleKind::Word { " " } else { "" };
        let mut out: Vec<u64> = if tokens.is_empty() {
            vec![]
        } else if tokens.len() <= n {
            vec![xxh3_64(norm.as_bytes())]
        } else {
            tokens.windows(n).map(|w| xxh3_64(w.join(sep).as_bytes())).collect()
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    proptest::proptest! {
        #[test]
        fn shingles_are_the_hashed_windows(text in "[a-c ,.\u{e9}\u{df}\u{fb01}]{0,24}", n in 1usize..6) {
            for kind in [ShingleKind::Word, ShingleKind::Char] {
                proptest::prop_assert_eq!(set(&text, kind, n), by_windows(&text, kind, n));
            }
        }
    }

    #[test]
    fn word_shingles_count_distinct_ngrams() {
        assert_eq!(set("a b c d", ShingleKind::Word, 3).len(), 2);
        assert_eq!(set("a b a b a b", ShingleKind::Word, 2).len(), 2);
    }

    #[test]
    fn short_text_is_one_shingle_and_empty_has_none() {
        assert_eq!(set("only two", ShingleKind::Word, 3).len(), 1);
        assert_eq!(set("ab", ShingleKind::Char, 3).len(), 1);
        assert!(set("?!", ShingleKind::Word, 3).is_empty());
    }

    #[test]
    fn char_shingles_span_multibyte_characters() {
        assert_eq!(set("héllo", ShingleKind::Char, 2).len(), 4);
    }

    #[test]
    fn texts_that_shingle_alike_share_a_set() {
        let sets =
            shingle_sets(&["a b c d", "x y", "A, b c d!", "", "?!", "x y"], ShingleKind::Word, 3).unwrap();
        assert_eq!(sets.of_text, vec![0, 1, 0, 2, 2, 1]);
        assert_eq!(sets.distinct.len(), 3);
        assert_eq!(sets.distinct[0], set("a b c d", ShingleKind::Word, 3));
    }

    #[test]
    fn a_huge_ngram_is_the_whole_text() {
        assert_eq!(set("a b c", ShingleKind::Word, usize::MAX), set("a b c", ShingleKind::Word, 3));
    }

    #[test]
    fn surface_form_does_not_change_shingles() {
        assert_eq!(
            set("The cat, sat ON the mat.", ShingleKind::Word, 3),
            set("the cat sat on the mat", ShingleKind::Word, 3)
        );
    }
}
