//! Answer keys: the final answer a math or multiple-choice response commits to, in a canonical form, so
//! agents can be checked for agreement by exact vote.

use crate::normalize::normalize;
use regex::Regex;
use std::sync::OnceLock;

fn number_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"[-+]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:/[0-9]+)?").unwrap()
    })
}

fn answer_phrase_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)\banswer\s*(?:is\b|:)").unwrap())
}

fn choice_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\s*\(?([A-J])\)?(?:$|[\s.,;:)])").unwrap())
}

/// The canonical key, or None when the text commits to nothing recognisable.
pub fn answer_key(text: &str) -> Option<String> {
    if let Some(content) = last_boxed(text) {
        if let Some(key) = boxed_key(content) {
            return Some(key);
        }
    }
    if let Some(m) = answer_phrase_re().find_iter(text).last() {
        if let Some(key) = phrase_key(&text[m.end()..]) {
            return Some(key);
        }
    }
    number_re().find_iter(text).last().map(|m| canonical_number(m.as_str()))
}

/// Content of the last `\boxed{...}` whose braces balance (an unclosed one is a typo, not an answer).
fn last_boxed(text: &str) -> Option<&str> {
    BoxScan::default().last_balanced(text)
}

/// Finds every box's closing brace in one left-to-right pass. Searching forward from each `\boxed{` for
/// its brace, as a search from the right must, reads the text again per box left open: quadratic on a
/// reply of nothing but `\boxed{` (200k characters took 4.8 s).
#[derive(Default)]
struct BoxScan {
    /// Bytes read, so a test can tell one pass from many.
    steps: usize,
}

impl BoxScan {
    fn last_balanced<'a>(&mut self, text: &'a str) -> Option<&'a str> {
        const OPEN: &[u8] = b"\\boxed{";
        let bytes = text.as_bytes();
        // Braces are ASCII, so byte offsets are char boundaries. Each open box remembers the depth of its
        // brace and where its content starts; it balances when the brace at that depth closes.
        let (mut depth, mut open): (usize, Vec<(usize, usize)>) = (0, Vec::new());
        let mut last: Option<(usize, usize)> = None;
        for (i, &b) in bytes.iter().enumerate() {
            self.steps += 1;
            match b {
                b'{' => {
                    depth += 1;
                    if bytes[..=i].ends_with(OPEN) {
                        open.push((depth, i + 1));
                    }
                }
                b'}' if depth > 0 => {
                    if let Some(&(d, start)) = open.last() {
                        if d == depth {
                            open.pop();
                            // A box nested in an earlier one closes first but starts later: it wins.
                            if last.is_none_or(|(s, _)| start > s) {
                                last = Some((start, i));
                            }
                        }
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        last.map(|(start, end)| &text[start..end])
    }
}

fn boxed_key(content: &str) -> Option<String> {
    let content = content.trim();
    if let Some(m) = number_re().find(content) {
        if m.start() == 0 && m.end() == content.len() {
            return Some(canonical_number(content));
        }
    }
    if let Some(letter) = whole_choice(content) {
        return Some(letter);
    }
    non_empty(normalize(content))
}

/// `C` or `(C)` and nothing else.
fn whole_choice(s: &str) -> Option<String> {
    let inner = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')).unwrap_or(s);
    let mut chars = inner.chars();
    match (chars.next(), chars.next()) {
        (Some(c @ 'A'..='J'), None) => Some(c.to_string()),
        _ => None,
    }
}

/// The first sentence after "answer is" / "answer:": a choice letter, else its first number, else its text.
fn phrase_key(rest: &str) -> Option<String> {
    let line = rest.split('\n').next().unwrap_or("");
    let sentence = line.split(". ").next().unwrap_or("");
    let sentence = sentence.strip_suffix('.').unwrap_or(sentence);
    if let Some(c) = choice_re().captures(sentence) {
        return Some(c[1].to_string());
    }
    if let Some(m) = number_re().find(sentence) {
        return Some(canonical_number(m.as_str()));
    }
    non_empty(normalize(sentence))
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// "+1,250.50" -> "1250.5", "-0.0" -> "0", "06/08" -> "6/8": one spelling per value as written.
pub fn canonical_number(raw: &str) -> String {
    let (negative, unsigned) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    let (numerator, denominator) = match unsigned.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (unsigned, None),
    };
    let mut out = canonical_decimal(numerator);
    if negative && out != "0" {
        out.insert(0, '-');
    }
    if let Some(d) = denominator {
        out.push('/');
        out.push_str(&canonical_decimal(d));
    }
    out
}

fn canonical_decimal(s: &str) -> String {
    let s: String = s.chars().filter(|&c| c != ',').collect();
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Option<String> {
        answer_key(s)
    }

    #[test]
    fn boxed_wins_and_is_canonical() {
        assert_eq!(key(r"so 3 then \boxed{1,250.50} and 7").as_deref(), Some("1250.5"));
        assert_eq!(key(r"\boxed{\frac{1}{2}}").as_deref(), Some("frac 1 2"));
        assert_eq!(key(r"\boxed{1} then \boxed{(B)}").as_deref(), Some("B"));
        assert_eq!(key(r"\boxed{12 unbalanced").as_deref(), Some("12"));
        assert_eq!(key(r"\boxed{1} and \boxed{2").as_deref(), Some("1"));
        assert_eq!(key(r"5 \boxed{ , }").as_deref(), Some("5"));
    }

    #[test]
    fn answer_phrase_gives_choice_number_or_text() {
        assert_eq!(key("I think the answer is (C).").as_deref(), Some("C"));
        assert_eq!(key("Answer: B").as_deref(), Some("B"));
        assert_eq!(key("The answer is 42 apples, not 7").as_deref(), Some("42"));
        assert_eq!(key("The final answer is Paris. Because 3 reasons").as_deref(), Some("paris"));
        assert_eq!(key("the answer is A good question").as_deref(), Some("A"));
    }

    #[test]
    fn falls_back_to_last_number() {
        assert_eq!(key("so x = 3/4").as_deref(), Some("3/4"));
        assert_eq!(key("first 10, then -0.50").as_deref(), Some("-0.5"));
        assert_eq!(key("nothing to see"), None);
        assert_eq!(key(""), None);
    }

    /// The definition, as a search from the right: the last opener whose braces close.
    fn last_boxed_by_search(text: &str) -> Option<&str> {
        text.rmatch_indices("\\boxed{").find_map(|(at, _)| {
            let after = &text[at + "\\boxed{".len()..];
            let mut depth = 1usize;
            for (i, c) in after.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(&after[..i]);
                        }
                    }
                    _ => {}
                }
            }
            None
        })
    }

    proptest::proptest! {
        #[test]
        fn one_pass_finds_the_box_a_search_from_the_right_does(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["\\boxed{", "{", "}", "\\", "boxed", "x", "1", " ", "é", "}}", "{{"]),
                0..40,
            )
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(last_boxed(&text), last_boxed_by_search(&text));
        }
    }

    #[test]
    fn the_scan_reads_each_byte_once_whatever_is_left_open() {
        let unclosed = "\\boxed{".repeat(30_000);
        let nested_then_closed = format!("{unclosed}7{}", "}".repeat(30_000));
        let alternating = "\\boxed{1}{".repeat(20_000);
        for text in [unclosed.as_str(), nested_then_closed.as_str(), alternating.as_str()] {
            let mut scan = BoxScan::default();
            scan.last_balanced(text);
            assert_eq!(scan.steps, text.len());
        }
        assert_eq!(key(&unclosed), None);
        assert_eq!(key(&nested_then_closed).as_deref(), Some("7"));
        assert_eq!(key(&alternating).as_deref(), Some("1"));
    }

    #[test]
    fn nested_boxes_give_the_innermost_last_one() {
        assert_eq!(last_boxed(r"\boxed{a \boxed{b} c}"), Some("b"));
        assert_eq!(last_boxed(r"} \boxed{x}"), Some("x"));
        assert_eq!(last_boxed(r"\boxed{x} {"), Some("x"));
    }

    #[test]
    fn canonical_numbers() {
        assert_eq!(canonical_number("+007.100"), "7.1");
        assert_eq!(canonical_number("-0.0"), "0");
        assert_eq!(canonical_number("1,000,000"), "1000000");
        assert_eq!(canonical_number("06/08"), "6/8");
        assert_eq!(canonical_number(".5"), "0.5");
    }
}
