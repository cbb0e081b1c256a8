//! Property tests of every public function over hostile input: empty, huge, NaN and infinities, mismatched
//! lengths, candidates out of range, Unicode edge cases. The property is always the same: the function
//! returns Ok or a `CoreError` (a panic fails the test), its output keeps its invariants, and it is
//! deterministic. Test names start with `fuzz_`; FUZZING.md has the long run.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use smoa_core_rs::aggregate::{aggregate, AggregateOptions, AggregationMethod};
use smoa_core_rs::answer_key::answer_key;
use smoa_core_rs::ballot::Ballot;
use smoa_core_rs::centrality::centrality;
use smoa_core_rs::clusters::{dedup_exact, dedup_near, Clusters, Method, NearMethod, NearOptions};
use smoa_core_rs::kendall::kendall_w;
use smoa_core_rs::limits::MAX_CANDIDATES;
use smoa_core_rs::normalize::{fingerprint, normalize};
use smoa_core_rs::select::{mmr_top_k, top_k};
use smoa_core_rs::shingle::ShingleKind;
use smoa_core_rs::similarity::similarity_matrix;

// ---- hostile values ---------------------------------------------------------------------------------

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0f64..10.0,
        1 => any::<f64>(),
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, f64::MAX, f64::MIN, f64::MIN_POSITIVE,
            5e-324, -5e-324, 1e300, -1e300, 1.0, 0.5,
        ]),
    ]
}

/// Unicode that normalization treats specially: combining marks, expansions under NFKC or case folding,
/// invisible and bidirectional controls, non-characters, the last code point.
const ODD: &[&str] = &[
    "\u{301}",
    "\u{345}",
    "ß",
    "ẞ",
    "İ",
    "ǅ",
    "ﬁ",
    "ﷺ",
    "Ａ",
    "①",
    "½",
    "²",
    "\u{200d}",
    "\u{200f}",
    "\u{feff}",
    "\u{0}",
    "\u{10ffff}",
    "\u{fffe}",
    "👩\u{200d}💻",
    "か\u{3099}",
    "Ω",
    "ς",
    "\t",
    "\n",
    "—",
    "٣",
];

/// Pieces the answer-key rules look for, so the fuzzer meets boxes and phrases often.
const ANSWERISH: &[&str] = &[
    "\\boxed{",
    "{",
    "}",
    "\\",
    "answer is",
    "Answer:",
    "(C)",
    "B",
    "1,250.50",
    "-0",
    "3/4",
    " ",
    ". ",
    "\n",
];

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => "[a-c ]{0,6}",
        2 => prop::sample::select(ODD).prop_map(str::to_string),
        2 => prop::sample::select(ANSWERISH).prop_map(str::to_string),
        1 => any::<String>(),
    ];
    prop_oneof![
        8 => prop::collection::vec(piece, 0..10).prop_map(|p| p.concat()),
        // Long runs of one piece: what a looping model emits.
        1 => (prop::sample::select(ANSWERISH), 0usize..3000).prop_map(|(p, k)| p.repeat(k)),
        1 => (prop::sample::select(ODD), 0usize..500).prop_map(|(p, k)| p.repeat(k)),
    ]
}

/// A few distinct texts, then repeated: many copies of few answers is the usual shape, and a hostile one.
fn texts() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        6 => prop::collection::vec(text(), 0..12),
        1 => (prop::collection::vec(text(), 1..4), 0usize..1500)
            .prop_map(|(base, n)| (0..n).map(|i| base[i % base.len()].clone()).collect()),
        // Past MAX_CANDIDATES now and then, where with_matrix and similarity_matrix refuse.
        1 => (0usize..1200).prop_map(|n| (0..n).map(|i| format!("candidate {i}")).collect()),
    ]
}

fn index() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => 0i64..8,
        1 => -3i64..0,
        1 => prop::sample::select(vec![i64::MIN, i64::MAX, 1023, 1024, 1 << 40]),
        1 => 0i64..2000,
    ]
}

fn count() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0usize..10,
        1 => prop::sample::select(vec![MAX_CANDIDATES, MAX_CANDIDATES + 1, 100_000, 1_000_000_000_000, 1 << 62, usize::MAX]),
    ]
}

type RawBallot = (Option<Vec<(i64, f64)>>, Option<Vec<i64>>, f64);

fn raw_ballot() -> impl Strategy<Value = RawBallot> {
    let scores = prop::option::weighted(0.7, prop::collection::vec((index(), float()), 0..8));
    let ranking = prop::option::weighted(0.5, prop::collection::vec(index(), 0..8));
    let weight = prop_oneof![4 => Just(1.0), 1 => float()];
    (scores, ranking, weight)
}

/// Ballots that construct, from well-formed parts (distinct candidates below `n`, finite scores).
fn ballots(n: usize) -> impl Strategy<Value = Vec<Ballot>> {
    let one = (prop::sample::subsequence((0..n as i64).collect::<Vec<_>>(), 1..=n), any::<u8>())
        .prop_flat_map(move |(seen, kind)| {
            let k = seen.len();
            (
                Just(seen).prop_shuffle(),
                prop::collection::vec(float().prop_filter("finite", |v| v.is_finite()), k),
                Just(kind),
            )
        });
    let weight =
        prop_oneof![4 => Just(1.0), 1 => prop::sample::select(vec![0.5, 3.0, 1e-300, 1e300, 5e-324])];
    prop::collection::vec((one, weight), 1..6).prop_map(|list| {
        list.into_iter()
            .map(|((seen, values, kind), w)| {
                let scores = seen.iter().copied().zip(values).collect();
                match kind % 3 {
                    0 => Ballot::new(Some(scores), None, w),
                    1 => Ballot::new(None, Some(seen), w),
                    _ => Ballot::new(Some(scores), Some(seen), w),
                }
                .expect("well-formed ballot")
            })
            .collect()
    })
}

fn matrix() -> impl Strategy<Value = Vec<Vec<f64>>> {
    prop_oneof![
        // Square, values in [0, 1]: what similarity_matrix makes.
        3 => (1usize..8).prop_flat_map(|n| prop::collection::vec(prop::collection::vec(0.0f64..=1.0, n), n)),
        // Anything: ragged, empty, non-finite.
        1 => prop::collection::vec(prop::collection::vec(float(), 0..5), 0..5),
    ]
}

// ---- invariants ---------------------------------------------------------------------------------------

fn is_permutation(order: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    order.len() == n && order.iter().all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
}

/// Clusters partition 0..n, each ascending, in order of first member, labels agreeing.
fn check_partition(c: &Clusters, n: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(c.labels.len(), n);
    let flat: Vec<usize> = c.clusters.iter().flatten().copied().collect();
    let mut sorted = flat.clone();
    sorted.sort_unstable();
    prop_assert_eq!(sorted, (0..n).collect::<Vec<_>>());
    for (k, cluster) in c.clusters.iter().enumerate() {
        prop_assert!(!cluster.is_empty() && cluster.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(cluster.iter().all(|&i| c.labels[i] == k));
    }
    prop_assert!(c.representatives().windows(2).all(|w| w[0] < w[1]));
    prop_assert_eq!(c.removed(), n - c.clusters.len());
    Ok(())
}

fn check_similarity(m: &[Vec<f64>], n: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(m.len(), n);
    for (i, row) in m.iter().enumerate() {
        prop_assert_eq!(row.len(), n);
        prop_assert_eq!(row[i], 1.0);
        for (j, &s) in row.iter().enumerate() {
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, m[j][i]);
        }
    }
    Ok(())
}

/// Connected components of the pairs at or above the threshold, as sorted clusters.
fn components(m: &[Vec<f64>], threshold: f64) -> Vec<Vec<usize>> {
    let n = m.len();
    let mut label: Vec<usize> = (0..n).collect();
    for _ in 0..n {
        for i in 0..n {
            for j in 0..n {
                if m[i][j] >= threshold {
                    let low = label[i].min(label[j]);
                    label[i] = low;
                    label[j] = low;
                }
            }
        }
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    for root in 0..n {
        let members: Vec<usize> = (0..n).filter(|&i| label[i] == root).collect();
        if !members.is_empty() {
            out.push(members);
        }
    }
    out
}

fn sorted_clusters(c: &Clusters) -> Vec<Vec<usize>> {
    let mut out = c.clusters.clone();
    out.sort();
    out
}

// ---- properties ---------------------------------------------------------------------------------------

proptest! {
    #[test]
    fn fuzz_normalize_and_fingerprint(t in text()) {
        let norm = normalize(&t);
        prop_assert_eq!(&norm, &normalize(&t));
        prop_assert!(!norm.starts_with(' ') && !norm.ends_with(' ') && !norm.contains("  "));
        prop_assert!(norm.chars().all(|c| c == ' ' || c.is_alphanumeric()));
        prop_assert_eq!(fingerprint(&t), fingerprint(&norm));
    }

    #[test]
    fn fuzz_answer_key(t in text()) {
        let key = answer_key(&t);
        prop_assert_eq!(&key, &answer_key(&t));
        if let Some(k) = key {
            prop_assert!(!k.is_empty());
        }
    }

    #[test]
    fn fuzz_dedup_exact(texts in texts()) {
        match dedup_exact(&texts) {
            Err(e) => prop_assert!(texts.is_empty() && e.arg == "texts"),
            Ok(c) => {
                check_partition(&c, texts.len())?;
                prop_assert_eq!(c.method, Method::Hash);
                let again = dedup_exact(&texts).unwrap();
                prop_assert_eq!(&c, &again);
                for cluster in &c.clusters {
                    prop_assert!(cluster.iter().all(|&i| normalize(&texts[i]) == normalize(&texts[cluster[0]])));
                }
            }
        }
    }

    #[test]
    fn fuzz_dedup_near(
        (texts, num_perm) in texts().prop_flat_map(|texts| {
            // MinHash densification costs about num_perm² / |set| per text: the largest num_perm only with
            // few texts, so the default run stays short.
            let most = if texts.len() > 50 { 200 } else { 4096 };
            let num_perm = prop_oneof![4 => 1usize..200, 1 => prop::sample::select(vec![0, most, 4097, usize::MAX])];
            (Just(texts), num_perm)
        }),
        threshold in prop_oneof![4 => 0.0f64..=1.0, 1 => float()],
        shingle in prop::sample::select(vec![ShingleKind::Word, ShingleKind::Char]),
        ngram in prop_oneof![4 => 1usize..5, 1 => prop::sample::select(vec![0, 1000, usize::MAX])],
        method in prop::sample::select(vec![NearMethod::Auto, NearMethod::Exact, NearMethod::MinHash]),
        with_matrix in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let opts = NearOptions { threshold, shingle, ngram, method, with_matrix, num_perm, seed };
        let n = texts.len();
        match dedup_near(&texts, &opts) {
            Err(e) => {
                let valid = n > 0 && (0.0..=1.0).contains(&threshold) && ngram > 0 && (1..=4096).contains(&num_perm)
                    && !(with_matrix && n > MAX_CANDIDATES);
                prop_assert!(!valid, "valid input refused: {e}");
            }
            Ok(c) => {
                check_partition(&c, n)?;
                prop_assert!(c.pairs_compared <= (n as u64) * (n as u64).saturating_sub(1) / 2);
                prop_assert_eq!(&c, &dedup_near(&texts, &opts).unwrap());
                prop_assert_eq!(c.matrix.is_some(), with_matrix);
                // Beside a full matrix the result can be checked against all pairs.
                if n <= 40 {
                    let m = match &c.matrix {
                        Some(m) => m.clone(),
                        None => similarity_matrix(&texts, shingle, ngram).unwrap(),
                    };
                    check_similarity(&m, n)?;
                    let exact = components(&m, threshold);
                    if c.method == Method::Exact {
                        prop_assert_eq!(sorted_clusters(&c), exact);
                    } else {
                        // MinHash may miss pairs, never invent one: each cluster lies in an exact one.
                        for cluster in &c.clusters {
                            prop_assert!(exact.iter().any(|e| cluster.iter().all(|i| e.contains(i))));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn fuzz_similarity_matrix(texts in texts(), ngram in 0usize..5, char in any::<bool>()) {
        let kind = if char { ShingleKind::Char } else { ShingleKind::Word };
        match similarity_matrix(&texts, kind, ngram) {
            Err(e) => prop_assert!(texts.is_empty() || texts.len() > MAX_CANDIDATES || ngram == 0, "{e}"),
            Ok(m) => check_similarity(&m, texts.len())?,
        }
    }

    #[test]
    fn fuzz_ballot(raw in raw_ballot()) {
        let (scores, ranking, weight) = raw.clone();
        if let Ok(b) = Ballot::new(scores, ranking, weight) {
            prop_assert!(weight.is_finite() && weight > 0.0);
            let m = b.candidates().len();
            prop_assert!((1..=MAX_CANDIDATES).contains(&m) && b.candidates().iter().all(|&c| c < MAX_CANDIDATES));
            prop_assert!(b.preference().windows(2).all(|w| w[0] >= w[1]));
            let standings: Vec<_> = b.standings().collect();
            prop_assert_eq!(standings.len(), m);
            prop_assert!(standings.iter().all(|&(_, beats, ties)| beats + ties < m));
            let (s, r, w) = raw;
            prop_assert_eq!(&b, &Ballot::new(s, r, w).unwrap());
        }
    }

    #[test]
    fn fuzz_aggregate_rejects_bad_sizes(raw in prop::collection::vec(raw_ballot(), 0..4), n in count()) {
        let built: Vec<Ballot> = raw.into_iter().filter_map(|(s, r, w)| Ballot::new(s, r, w).ok()).collect();
        for method in AggregationMethod::ALL {
            let opts = AggregateOptions { method, bt_max_iter: 50, ..Default::default() };
            match aggregate(&built, n, &opts) {
                Ok(a) => {
                    prop_assert!((1..=MAX_CANDIDATES).contains(&n));
                    prop_assert!(is_permutation(&a.ranking, n));
                }
                Err(e) => prop_assert!(!e.is_out_of_memory(), "{e}"),
            }
        }
        match kendall_w(&built, n) {
            Ok(w) => prop_assert!(w.is_none_or(|w| (0.0..=1.0 + 1e-12).contains(&w))),
            Err(e) => prop_assert!(!e.is_out_of_memory(), "{e}"),
        }
    }

    #[test]
    fn fuzz_aggregate(
        (n, ballots) in (1usize..9).prop_flat_map(|n| (Just(n), ballots(n))),
        extra in 0usize..3,
        rrf_k in prop_oneof![4 => 0.0f64..100.0, 1 => float()],
        bt_prior in prop_oneof![4 => 0.01f64..2.0, 1 => float()],
        bt_tol in prop_oneof![4 => 1e-12f64..1e-3, 1 => float()],
        bt_max_iter in prop_oneof![4 => 1usize..200, 1 => Just(0usize)],
    ) {
        // `extra` candidates no ballot can see.
        let n = n + extra;
        for method in AggregationMethod::ALL {
            let opts = AggregateOptions { method, rrf_k, bt_prior, bt_tol, bt_max_iter };
            let a = match aggregate(&ballots, n, &opts) {
                Err(e) => {
                    let options_valid = rrf_k.is_finite() && rrf_k >= 0.0 && bt_prior.is_finite() && bt_prior > 0.0
                        && bt_tol.is_finite() && bt_tol > 0.0 && bt_max_iter > 0;
                    let has_scores = ballots.iter().all(|b| b.scores.is_some());
                    let needs_scores = matches!(method, AggregationMethod::Mean | AggregationMethod::ZMean);
                    prop_assert!(!options_valid || (needs_scores && !has_scores), "{e}");
                    continue;
                }
                Ok(a) => a,
            };
            // NaN is not equal to itself, so determinism is checked on the printed form.
            prop_assert_eq!(format!("{a:?}"), format!("{:?}", aggregate(&ballots, n, &opts).unwrap()));
            prop_assert!(is_permutation(&a.ranking, n));
            for v in [&a.scores, &a.copeland, &a.mean_score] {
                prop_assert_eq!(v.len(), n);
            }
            for c in 0..n {
                let seen = ballots.iter().filter(|b| b.candidates().contains(&c)).count();
                prop_assert_eq!(a.seen[c], seen);
                if seen == 0 {
                    prop_assert!(a.scores[c].is_nan() && a.copeland[c].is_nan());
                } else {
                    prop_assert!(a.copeland[c].is_finite() && a.copeland[c] >= 0.0);
                    prop_assert!(a.scores[c].is_finite(), "{} gave candidate {c} {}", method.name(), a.scores[c]);
                }
            }
            // Every candidate some ballot saw ranks above every one none did.
            let first_unseen = a.ranking.iter().position(|&c| a.seen[c] == 0).unwrap_or(n);
            prop_assert!(a.ranking[first_unseen..].iter().all(|&c| a.seen[c] == 0));
            prop_assert!(a.kendall_w.is_none_or(|w| (0.0..=1.0 + 1e-12).contains(&w)));
            prop_assert!(a.iterations <= bt_max_iter);
        }
    }

    #[test]
    fn fuzz_top_k(scores in prop::collection::vec(float(), 0..40), k in prop_oneof![4 => 0i64..45, 1 => any::<i64>()]) {
        match top_k(&scores, k) {
            Err(_) => prop_assert!(scores.is_empty() || scores.iter().any(|s| !s.is_finite()) || k < 0 || k as usize > scores.len()),
            Ok(picked) => {
                prop_assert_eq!(picked.len(), k as usize);
                let mut distinct = picked.clone();
                distinct.sort_unstable();
                distinct.dedup();
                prop_assert_eq!(distinct.len(), picked.len());
                prop_assert!(picked.iter().all(|&i| i < scores.len()));
                prop_assert!(picked.windows(2).all(|w| scores[w[0]] >= scores[w[1]]));
            }
        }
    }

    #[test]
    fn fuzz_mmr_top_k(
        scores in prop::collection::vec(float(), 0..8),
        sim in matrix(),
        k in prop_oneof![4 => 0i64..9, 1 => any::<i64>()],
        lambda in prop_oneof![4 => 0.0f64..=1.0, 1 => float()],
    ) {
        if let Ok(picked) = mmr_top_k(&scores, &sim, k, lambda) {
            let n = scores.len();
            prop_assert!(scores.iter().all(|s| s.is_finite()) && (0.0..=1.0).contains(&lambda));
            prop_assert!(sim.len() == n && sim.iter().all(|r| r.len() == n && r.iter().all(|v| v.is_finite())));
            prop_assert_eq!(picked.len(), k as usize);
            let mut order = picked.clone();
            order.extend((0..n).filter(|i| !picked.contains(i)));
            prop_assert!(is_permutation(&order, n), "picks repeat or leave 0..n: {:?}", picked);
            // Nothing is redundant before the first pick: it is the best score.
            if let Some(&first) = picked.first() {
                prop_assert_eq!(first, top_k(&scores, 1).unwrap()[0]);
            }
            prop_assert_eq!(&picked, &mmr_top_k(&scores, &sim, k, lambda).unwrap());
        }
    }

    #[test]
    fn fuzz_centrality(sim in matrix()) {
        if let Ok(c) = centrality(&sim) {
            let n = sim.len();
            prop_assert!(is_permutation(&c.ranking, n));
            prop_assert_eq!(c.scores.len(), n);
            // Similarities in [0, 1] give mean similarities in [0, 1].
            if sim.iter().flatten().all(|v| (0.0..=1.0).contains(v)) {
                prop_assert!(c.scores.iter().all(|s| (0.0..=1.0).contains(s)));
            }
            prop_assert!(c.ranking.windows(2).all(|w| c.scores[w[0]] >= c.scores[w[1]]));
        }
    }
}

// ---- sizes far past what a property test draws ----------------------------------------------------------

#[test]
fn fuzz_sizes_past_the_limits_are_refused_or_linear() {
    let many: Vec<String> = (0..20_000).map(|i| format!("candidate {i}")).collect();
    assert_eq!(similarity_matrix(&many, ShingleKind::Word, 3).unwrap_err().arg, "texts");
    assert_eq!(dedup_near(&many, &NearOptions::default()).unwrap().clusters.len(), 20_000);
    let same = vec!["one answer, many times"; 100_000];
    for method in [NearMethod::Auto, NearMethod::Exact, NearMethod::MinHash] {
        let c = dedup_near(&same, &NearOptions { method, ..Default::default() }).unwrap();
        assert_eq!((c.clusters.len(), c.pairs_compared), (1, 0));
    }
    let row = vec![0.5; 20_000];
    let rows: Vec<Vec<f64>> = (0..MAX_CANDIDATES + 1).map(|_| row[..MAX_CANDIDATES + 1].to_vec()).collect();
    assert_eq!(centrality(&rows).unwrap_err().arg, "similarity");
    let ballot = [Ballot::new(None, Some(vec![0, 1]), 1.0).unwrap()];
    for n in [100_000, 1_000_000_000_000, 1 << 62] {
        assert_eq!(aggregate(&ballot, n, &AggregateOptions::default()).unwrap_err().arg, "n");
    }
    assert_eq!(answer_key(&"\\boxed{".repeat(30_000)), None);
}
