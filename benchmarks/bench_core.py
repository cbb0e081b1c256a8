"""Benchmark of the smoa_core_rs core against its peers.

Run after a release build (``make bench`` does both)::

    .venv/bin/python benchmarks/bench_core.py [--quick] [--json PATH]

Every dedup contender gets the same job: from the raw ``list[str]`` find the clusters of texts whose
word-3-gram Jaccard similarity (on the normalized text) is >= 0.8. Each timing covers the whole job,
including the contender's own normalization, shingling and signatures, and for ``smoa_core_rs`` the
Python call overhead. Accuracy is scored against an independent exact ground truth computed here in
pure Python with rational arithmetic.

The data are generated in-script from a fixed seed (no downloads), so every run sees the same texts.
Targets live here (never in the tests) and are printed next to the measured figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib
import importlib.util
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parent.parent
# `make build-release` runs `maturin develop --skip-install`, which builds the extension in place next to
# the Python sources without installing it. Use that build unless smoa_core_rs is importable already
# (installed, or on PYTHONPATH); the header prints which file was loaded and which build it is.
_IN_TREE = REPO / "smoa_core_rs" / "python"
if importlib.util.find_spec("smoa_core_rs") is None:
    sys.path.insert(0, str(_IN_TREE))

import numpy as np  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402
from release_core import require_release_core  # noqa: E402

# datasketch and scipy ship no type information: bind what is used as Any, whatever mypy's overrides say.
_datasketch: Any = importlib.import_module("datasketch")
_scipy_stats: Any = importlib.import_module("scipy.stats")
MinHash: Any = _datasketch.MinHash
MinHashLSH: Any = _datasketch.MinHashLSH
rankdata: Any = _scipy_stats.rankdata

_smoa_error: str | None
try:
    import smoa_core_rs as smoa

    _smoa_error = None
except ImportError as exc:  # depends on the build: the harness also runs the peers alone
    _smoa_error = str(exc)

DedupMethod = Literal["auto", "exact", "minhash"]
AggregationMethod = Literal["mean", "zmean", "borda", "rrf", "copeland", "bradley_terry"]

SEED = 20240531
TAU = 0.8
TAU_EXACT = Fraction(4, 5)
NGRAM = 3
NUM_PERM = 128

# name, number of texts, target characters per text
SIZES: tuple[tuple[str, int, int], ...] = (
    ("n=16 x ~2 KB", 16, 2048),
    ("n=64 x ~2 KB", 64, 2048),
    ("n=1000 x ~130 chars", 1000, 130),
)

# Targets (p50 wall time per call, including the Python call).
TARGET_MS = {16: 0.5, 64: 3.0, 1000: 20.0}
TARGET_SPEEDUP_N16 = {"rapidfuzz": 20.0, "datasketch": 10.0}
TARGET_AGG_US = 20.0
# Hostile replies (ms, release build): an LLM's output can be anything, so these must stay linear.
TARGET_HOSTILE_MS = {
    "answer_key of 200k chars of unclosed \\boxed{": 5.0,
    "Ballot(ranking=range(100_000)), refused": 1.0,
    "Ballot(ranking=range(1024)), the largest": 0.5,
    "aggregate(borda) of 5 ballots over 1024 candidates": 50.0,
}
# Time at 4x the input over time at 1x: about 4 when linear, 16 when quadratic.
TARGET_LINEAR_RATIO = 6.0

OURS = "smoa_core_rs"


# ----------------------------------------------------------------------------------------------------
# Synthetic English-ish text
# ----------------------------------------------------------------------------------------------------

_FUNCTION_WORDS = (
    "the of and to a in is that it for on was with as be by at this are from or an have not but which "
    "they one all were their there been has more when will would can who its into some than"
)
_ONSETS = ("b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "cl", "st", "tr")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ou")
# Mostly ASCII, like English model output, with the occasional non-ASCII character such output has:
# loanwords (rare in the Zipf tail), em dashes and typographic quotes between words.
_LOANWORDS = ("café", "naïve", "résumé", "déjà", "façade", "über", "piñata", "señor")
_CODAS = ("", "", "n", "r", "s", "t", "l", "nd", "st", "ng")


def _make_vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    words = _FUNCTION_WORDS.split()
    seen = set(words)
    while len(words) < size:
        syllables = rng.choice((1, 1, 2, 2, 2, 3))
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    for loan in _LOANWORDS:
        words.insert(rng.randrange(100, size // 2), loan)
    return words


@dataclass
class Doc:
    """A text as words plus the separator that follows each word, so words can be swapped in place."""

    words: list[str]
    seps: list[str]
    prefix: str = ""

    def render(self) -> str:
        return self.prefix + "".join(w + s for w, s in zip(self.words, self.seps, strict=True))


@dataclass
class Corpus:
    label: str
    texts: list[str]
    planted: list[tuple[int, int]]  # (near-duplicate, its source), indices into texts
    substituted: list[int]  # words substituted in each planted near-duplicate


class TextGenerator:
    """Zipf-distributed words from a syllable vocabulary, in sentences with punctuation and some markdown."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocab = _make_vocabulary(rng)
        weights = [1.0 / (rank + 2) ** 1.05 for rank in range(len(self.vocab))]
        total = 0.0
        self.cum: list[float] = []
        for w in weights:
            total += w
            self.cum.append(total)

    def word(self) -> str:
        return self.rng.choices(self.vocab, cum_weights=self.cum)[0]

    def doc(self, target_chars: int) -> Doc:
        rng = self.rng
        goal = int(target_chars * rng.uniform(0.9, 1.1))
        words: list[str] = []
        seps: list[str] = []
        length = 0
        prefix = rng.choice(("", "", "", "## ", "**Answer:** "))
        length += len(prefix)
        while length < goal:
            sentence_len = rng.randint(5, 18)
            bullet = rng.random() < 0.1
            for k in range(sentence_len):
                w = self.word()
                if k == 0:
                    w = w.capitalize()
                elif rng.random() < 0.03:
                    w = f"**{w}**"
                if k == sentence_len - 1:
                    sep = rng.choice((". ", ". ", ". ", "? ", "! ", ".\n\n"))
                    if bullet:
                        sep = "\n- "
                elif rng.random() < 0.08:
                    sep = rng.choice((", ", ", ", "; ", " - ", ": ", " \u2014 ", "\u2019s "))
                else:
                    sep = " "
                words.append(w)
                seps.append(sep)
                length += len(w) + len(sep)
                if length >= goal:
                    break
        seps[-1] = "."
        return Doc(words, seps, prefix)

    def near_duplicate(self, doc: Doc, rate: float) -> tuple[Doc, int]:
        """Copy of ``doc`` with ``rate`` of its words (at least one) replaced by random other words."""
        rng = self.rng
        k = max(1, round(rate * len(doc.words)))
        words = list(doc.words)
        for pos in rng.sample(range(len(words)), k):
            old = words[pos]
            new = self.word()
            while new.casefold() == old.strip("*").casefold():
                new = self.word()
            words[pos] = new.capitalize() if old[:1].isupper() else new
        return Doc(words, list(doc.seps), doc.prefix), k


def make_corpus(label: str, n: int, target_chars: int, rate: float, seed: int) -> Corpus:
    """``n`` texts: half originals, half near-duplicates of random originals, shuffled together."""
    rng = random.Random(seed)
    gen = TextGenerator(rng)
    n_orig = n - n // 2
    docs = [gen.doc(target_chars) for _ in range(n_orig)]
    sources: list[int] = []
    substituted: list[int] = []
    for _ in range(n // 2):
        src = rng.randrange(n_orig)
        dup, k = gen.near_duplicate(docs[src], rate)
        docs.append(dup)
        sources.append(src)
        substituted.append(k)
    order = list(range(n))
    rng.shuffle(order)
    position = {old: new for new, old in enumerate(order)}
    texts = [docs[old].render() for old in order]
    planted = [(position[n_orig + j], position[src]) for j, src in enumerate(sources)]
    return Corpus(label, texts, planted, substituted)


# ----------------------------------------------------------------------------------------------------
# Shared pieces: normalization, shingles, union-find, pairs
# ----------------------------------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """NFKC, full case folding, every run of non-alphanumerics -> one space, stripped."""
    return _NON_ALNUM.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def word_shingles(text: str, ngram: int = NGRAM) -> set[str]:
    tokens = normalize(text).split()
    if not tokens:
        return set()
    if len(tokens) < ngram:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + ngram]) for i in range(len(tokens) - ngram + 1)}


def union_find_labels(n: int, pairs: Sequence[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    return [find(i) for i in range(n)]


def clustered_pairs(labels: Sequence[int]) -> set[tuple[int, int]]:
    """Unordered pairs i < j that share a cluster."""
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab, []).append(i)
    pairs: set[tuple[int, int]] = set()
    for members in groups.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pairs.add((members[x], members[y]))
    return pairs


# ----------------------------------------------------------------------------------------------------
# Ground truth: exact rational Jaccard on tuple shingles (kept apart from the timed reference)
# ----------------------------------------------------------------------------------------------------


@dataclass
class Truth:
    labels: list[int]
    pairs: set[tuple[int, int]]
    direct_pairs: int  # pairs with J >= tau before taking connected components
    planted_j: list[float]


def ground_truth(corpus: Corpus) -> Truth:
    sets: list[frozenset[tuple[str, ...]]] = []
    for text in corpus.texts:
        tokens = tuple(normalize(text).split())
        if not tokens:
            sets.append(frozenset())
        elif len(tokens) < NGRAM:
            sets.append(frozenset([tokens]))
        else:
            sets.append(frozenset(tokens[i : i + NGRAM] for i in range(len(tokens) - NGRAM + 1)))
    num, den = TAU_EXACT.numerator, TAU_EXACT.denominator

    def jaccard(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> Fraction:
        union = len(a | b)
        return Fraction(1) if union == 0 else Fraction(len(a & b), union)

    edges: list[tuple[int, int]] = []
    n = len(sets)
    for i in range(n):
        a = sets[i]
        for j in range(i + 1, n):
            b = sets[j]
            inter = len(a & b)
            union = len(a) + len(b) - inter
            if (union == 0) or inter * den >= union * num:
                edges.append((i, j))
    labels = union_find_labels(n, edges)
    planted_j = [float(jaccard(sets[d], sets[s])) for d, s in corpus.planted]
    return Truth(labels, clustered_pairs(labels), len(edges), planted_j)


# ----------------------------------------------------------------------------------------------------
# Contenders: each maps the raw texts to cluster labels (one per text)
# ----------------------------------------------------------------------------------------------------

Contender = Callable[[Sequence[str]], list[int]]


def pure_python_dedup(texts: Sequence[str]) -> list[int]:
    """Self-contained reference: normalize, shingle sets, all-pairs Jaccard, union-find."""
    sets = [word_shingles(t) for t in texts]
    n = len(sets)
    edges: list[tuple[int, int]] = []
    for i in range(n):
        a = sets[i]
        la = len(a)
        for j in range(i + 1, n):
            b = sets[j]
            inter = len(a & b)
            union = la + len(b) - inter
            sim = 1.0 if union == 0 else inter / union
            if sim >= TAU:
                edges.append((i, j))
    return union_find_labels(n, edges)


def rapidfuzz_dedup(texts: Sequence[str]) -> list[int]:
    """fuzz.ratio (normalized Indel similarity, 0..100) on the raw texts, score >= 80, union-find."""
    scores = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=TAU * 100, workers=1)
    ii, jj = np.nonzero(np.triu(scores >= TAU * 100, k=1))
    return union_find_labels(len(texts), list(zip(ii.tolist(), jj.tolist(), strict=True)))


def _shingle_bytes(texts: Sequence[str]) -> list[list[bytes]]:
    return [[s.encode("utf-8") for s in word_shingles(t)] for t in texts]


def datasketch_pairwise_dedup(texts: Sequence[str]) -> list[int]:
    """MinHash.bulk over the shingles, estimated Jaccard of every pair >= 0.8, union-find."""
    mh = MinHash.bulk(_shingle_bytes(texts), num_perm=NUM_PERM)
    n = len(mh)
    edges: list[tuple[int, int]] = []
    for i in range(n):
        a = mh[i]
        for j in range(i + 1, n):
            if a.jaccard(mh[j]) >= TAU:
                edges.append((i, j))
    return union_find_labels(n, edges)


def datasketch_lsh_dedup(texts: Sequence[str]) -> list[int]:
    """MinHash.bulk, MinHashLSH(threshold=0.8) insert + query (LSH candidates, unverified), union-find."""
    mh = MinHash.bulk(_shingle_bytes(texts), num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=TAU, num_perm=NUM_PERM)
    for i, m in enumerate(mh):
        lsh.insert(i, m)
    edges: list[tuple[int, int]] = []
    for i, m in enumerate(mh):
        for j in lsh.query(m):
            if j != i:
                edges.append((i, int(j)))
    return union_find_labels(len(texts), edges)


def ours_dedup(method: DedupMethod) -> Contender:
    def run(texts: Sequence[str]) -> list[int]:
        return smoa.dedup_near(texts, threshold=TAU, method=method).labels

    return run


# ----------------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------------


@dataclass
class Timing:
    samples_ns: list[int] = field(default_factory=list)
    batch: int = 1  # calls per sample

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ns) / self.batch / 1e6

    @property
    def min_ms(self) -> float:
        return min(self.samples_ns) / self.batch / 1e6

    @property
    def p90_ms(self) -> float:
        s = sorted(self.samples_ns)
        return s[min(len(s) - 1, math.ceil(0.9 * len(s)) - 1)] / self.batch / 1e6

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_ms": self.median_ms,
            "p90_ms": self.p90_ms,
            "min_ms": self.min_ms,
            "runs": len(self.samples_ns),
            "calls_per_run": self.batch,
        }


@dataclass(frozen=True)
class TimingPlan:
    warmup: int
    min_runs: int
    min_time_s: float
    max_runs: int
    slow_s: float  # a warm-up run slower than this marks the contender as slow
    slow_runs: int  # runs for slow contenders
    agg_batch: int  # calls per timed batch in the aggregation benchmark
    agg_runs: int


FULL = TimingPlan(
    warmup=3, min_runs=7, min_time_s=0.5, max_runs=2000, slow_s=0.25, slow_runs=3, agg_batch=1000, agg_runs=15
)
QUICK = TimingPlan(
    warmup=1, min_runs=3, min_time_s=0.05, max_runs=200, slow_s=0.1, slow_runs=1, agg_batch=200, agg_runs=5
)


def measure(fn: Callable[[], object], plan: TimingPlan) -> Timing:
    """Warm up, then time single calls until enough runs and enough total time (fewer for slow calls)."""
    timing = Timing()
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        fn()
        first = time.perf_counter_ns() - t0
        slow = first > plan.slow_s * 1e9
        for _ in range(0 if slow else plan.warmup - 1):
            fn()
        total = 0
        while True:
            t0 = time.perf_counter_ns()
            fn()
            elapsed = time.perf_counter_ns() - t0
            timing.samples_ns.append(elapsed)
            total += elapsed
            runs = len(timing.samples_ns)
            if slow:
                if runs >= plan.slow_runs:
                    break
            elif (runs >= plan.min_runs and total >= plan.min_time_s * 1e9) or runs >= plan.max_runs:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return timing


def measure_batched(fn: Callable[[], object], plan: TimingPlan) -> Timing:
    """Per-call time of a microsecond-scale call: time batches of ``plan.agg_batch`` calls."""
    timing = Timing(batch=plan.agg_batch)
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(plan.agg_batch):
            fn()
        for _ in range(plan.agg_runs):
            t0 = time.perf_counter_ns()
            for _ in range(plan.agg_batch):
                fn()
            timing.samples_ns.append(time.perf_counter_ns() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return timing


# ----------------------------------------------------------------------------------------------------
# Dedup benchmark
# ----------------------------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    note: str
    timing: Timing
    pairs: int
    true_positive: int
    true_pairs: int
    clusters: int
    is_ours: bool = False

    @property
    def precision(self) -> float | None:
        return self.true_positive / self.pairs if self.pairs else None

    @property
    def recall(self) -> float | None:
        return self.true_positive / self.true_pairs if self.true_pairs else None


def contenders_for(n: int, have_ours: bool) -> list[tuple[str, str, Contender, bool]]:
    """(name, note, function, is_ours)."""
    out: list[tuple[str, str, Contender, bool]] = []
    if have_ours:
        out.append((f"{OURS} auto", "dedup_near(method='auto')", ours_dedup("auto"), True))
        if n >= 1000:
            out.append((f"{OURS} exact", "dedup_near(method='exact')", ours_dedup("exact"), True))
            # Like for like with datasketch's MinHashLSH.
            out.append((f"{OURS} minhash", "dedup_near(method='minhash')", ours_dedup("minhash"), True))
    out.append(("rapidfuzz", "cdist fuzz.ratio>=80 (edit-based, not Jaccard)", rapidfuzz_dedup, False))
    out.append(
        ("datasketch pairwise", "MinHash.bulk + every pair .jaccard", datasketch_pairwise_dedup, False)
    )
    if n >= 1000:
        out.append(("datasketch LSH", "MinHash.bulk + MinHashLSH insert/query", datasketch_lsh_dedup, False))
    out.append(("pure Python", "sets + all-pairs exact Jaccard", pure_python_dedup, False))
    return out


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "n/a" if x is None else format(x, spec)


def _fmt_ms(ms: float) -> str:
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def _bind(fn: Contender, texts: Sequence[str]) -> Callable[[], object]:
    return lambda: fn(texts)


def bench_dedup(corpus: Corpus, plan: TimingPlan, have_ours: bool, out: list[str]) -> dict[str, Any]:
    n = len(corpus.texts)
    truth = ground_truth(corpus)
    lengths = [len(t) for t in corpus.texts]
    shingle_counts = [len(word_shingles(t)) for t in corpus.texts]
    non_ascii = sum(not t.isascii() for t in corpus.texts)
    pj = sorted(truth.planted_j)
    above = sum(j >= TAU for j in pj)
    n_true_clusters = len(set(truth.labels))

    out.append("")
    out.append(f"## Dedup, {corpus.label}: find clusters at Jaccard >= {TAU} (word 3-grams, normalized)")
    out.append(
        f"   texts: {n}, characters min/median/max "
        f"{min(lengths)}/{int(statistics.median(lengths))}/{max(lengths)}, "
        f"shingles median {int(statistics.median(shingle_counts))}, "
        f"{non_ascii} of {n} texts contain non-ASCII characters"
    )
    out.append(
        f"   planted near-duplicates: {len(pj)} ({min(corpus.substituted)}-{max(corpus.substituted)} "
        f"words substituted); their exact J min/median/max "
        f"{pj[0]:.3f}/{statistics.median(pj):.3f}/{pj[-1]:.3f}, {above} of {len(pj)} reach {TAU}"
    )
    out.append(
        f"   ground truth (exact rational Jaccard, connected components): "
        f"{truth.direct_pairs} pairs >= {TAU}, "
        f"{len(truth.pairs)} clustered pairs, {n_true_clusters} clusters"
    )

    rows: list[Row] = []
    auto_method: str | None = None
    for name, note, fn, is_ours in contenders_for(n, have_ours):
        timing = measure(_bind(fn, corpus.texts), plan)
        labels = fn(corpus.texts)
        if is_ours and name.endswith("auto"):
            auto_method = smoa.dedup_near(corpus.texts, threshold=TAU).method
            note = f"dedup_near(method='auto') -> picked '{auto_method}'"
        pairs = clustered_pairs(labels)
        rows.append(
            Row(
                name=name,
                note=note,
                timing=timing,
                pairs=len(pairs),
                true_positive=len(pairs & truth.pairs),
                true_pairs=len(truth.pairs),
                clusters=len(set(labels)),
                is_ours=is_ours,
            )
        )

    base = next((r for r in rows if r.is_ours), None)
    header = (
        f"   {'contender':<22} {'median ms':>10} {'p90 ms':>9} {'min ms':>9} {'runs':>5} {'peer/ours':>9} "
        f"{'pairs':>6} {'TP':>6} {'precision':>9} {'recall':>7} {'clusters':>8}  note"
    )
    out.append(header)
    out.append("   " + "-" * (len(header) - 3))
    for r in rows:
        ratio = "-" if base is None or r is base else f"{r.timing.median_ms / base.timing.median_ms:.1f}x"
        out.append(
            f"   {r.name:<22} {_fmt_ms(r.timing.median_ms):>10} {_fmt_ms(r.timing.p90_ms):>9} "
            f"{_fmt_ms(r.timing.min_ms):>9} {len(r.timing.samples_ns):>5} {ratio:>9} {r.pairs:>6} "
            f"{r.true_positive:>6} {_fmt(r.precision):>9} {_fmt(r.recall):>7} {r.clusters:>8}  {r.note}"
        )

    diagnostics: dict[str, Any] = {}
    if have_ours:
        # Where ours spends its time: dedup_exact does the same normalization (plus a hash) and no pairs.
        texts = corpus.texts
        norm = measure(lambda: smoa.dedup_exact(texts), plan)
        matrix = measure(lambda: smoa.similarity_matrix(texts), plan) if n <= 256 else None
        compared = {
            m: smoa.dedup_near(texts, threshold=TAU, method=m).pairs_compared for m in ("exact", "auto")
        }
        diagnostics = {
            "dedup_exact_median_ms": norm.median_ms,
            "similarity_matrix_median_ms": None if matrix is None else matrix.median_ms,
            "pairs_compared": compared,
            "all_pairs": n * (n - 1) // 2,
        }
        out.append(
            f"   ours, for scale: dedup_exact (normalization + hash, no pairs) {_fmt_ms(norm.median_ms)} ms"
            + ("" if matrix is None else f"; similarity_matrix {_fmt_ms(matrix.median_ms)} ms")
            + f"; pairs_compared exact {compared['exact']}, auto {compared['auto']} of {n * (n - 1) // 2}"
        )

    targets: list[dict[str, Any]] = []
    if base is not None:
        target_ms = TARGET_MS.get(n)
        if target_ms is not None:
            ok = base.timing.median_ms <= target_ms
            targets.append(
                {"what": f"{base.name} p50 <= {target_ms} ms", "value": base.timing.median_ms, "pass": ok}
            )
        if n == 16:
            for peer, factor in TARGET_SPEEDUP_N16.items():
                peer_row = next(r for r in rows if r.name.startswith(peer))
                speedup = peer_row.timing.median_ms / base.timing.median_ms
                targets.append(
                    {
                        "what": f"{peer_row.name} / ours >= {factor:g}x",
                        "value": speedup,
                        "pass": speedup >= factor,
                    }
                )
    for t in targets:
        value = f"{t['value']:.3f} ms" if t["what"].endswith("ms") else f"{t['value']:.1f}x"
        out.append(f"   target: {t['what']:<38} measured {value:>12}  {'PASS' if t['pass'] else 'MISS'}")

    return {
        "label": corpus.label,
        "n": n,
        "chars": {"min": min(lengths), "median": statistics.median(lengths), "max": max(lengths)},
        "non_ascii_texts": non_ascii,
        "planted": len(pj),
        "planted_jaccard": {
            "min": pj[0],
            "median": statistics.median(pj),
            "max": pj[-1],
            "at_least_tau": above,
        },
        "truth": {
            "direct_pairs": truth.direct_pairs,
            "clustered_pairs": len(truth.pairs),
            "clusters": n_true_clusters,
        },
        "auto_method": auto_method,
        "rows": [
            {
                "contender": r.name,
                "note": r.note,
                **r.timing.as_dict(),
                "peer_over_ours": None if base is None else r.timing.median_ms / base.timing.median_ms,
                "pairs": r.pairs,
                "true_positive": r.true_positive,
                "precision": r.precision,
                "recall": r.recall,
                "clusters": r.clusters,
            }
            for r in rows
        ],
        "ours_diagnostics": diagnostics,
        "targets": targets,
    }


# ----------------------------------------------------------------------------------------------------
# Aggregation + top-k benchmark
# ----------------------------------------------------------------------------------------------------

AGG_METHODS: tuple[AggregationMethod, ...] = ("borda", "rrf", "copeland", "bradley_terry", "mean", "zmean")
AGG_N = 16
AGG_BALLOTS = 5
AGG_K = 4


def borda_numpy_top_k(ballots: Sequence[Mapping[int, float]], n: int, k: int) -> list[int]:
    """Borda (beaten + half the ties) / (n - 1) per ballot via scipy rankdata, mean, stable top-k."""
    scores = np.array([[b[i] for i in range(n)] for b in ballots], dtype=np.float64)
    ranks = rankdata(scores, axis=1)
    borda = ((ranks - 1.0) / (n - 1)).mean(axis=0)
    top: list[int] = np.argsort(-borda, kind="stable")[:k].tolist()
    return top


def borda_pure_top_k(ballots: Sequence[Mapping[int, float]], n: int, k: int) -> list[int]:
    """The same in plain Python: per ballot, sort the scores and count beaten/tied with bisect."""
    from bisect import bisect_left, bisect_right

    total = [0.0] * n
    for b in ballots:
        values = sorted(b.values())
        for i, s in b.items():
            lo = bisect_left(values, s)
            ties = bisect_right(values, s) - lo - 1
            total[i] += (lo + 0.5 * ties) / (n - 1)
    mean = [t / len(ballots) for t in total]
    return sorted(range(n), key=lambda i: (-mean[i], i))[:k]


def bench_aggregate(plan: TimingPlan, have_ours: bool, out: list[str]) -> dict[str, Any]:
    rng = random.Random(SEED + 1)
    raw = [{i: rng.random() for i in range(AGG_N)} for _ in range(AGG_BALLOTS)]
    out.append("")
    out.append(
        f"## Aggregation + top-{AGG_K}: {AGG_BALLOTS} ballots with random scores over all {AGG_N} candidates "
        f"(µs per call, median of {plan.agg_runs} batches of {plan.agg_batch} calls)"
    )
    header = (
        f"   {'contender':<50} {'median µs':>10} {'p90 µs':>8} {'min µs':>8} {'peer/ours':>9}  "
        f"target <= {TARGET_AGG_US:g} µs"
    )
    out.append(header)
    out.append("   " + "-" * (len(header) - 3))
    results: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []

    def line(name: str, t: Timing, ratio: str, target: bool | None) -> None:
        mark = "" if target is None else ("PASS" if target else "MISS")
        out.append(
            f"   {name:<50} {t.median_ms * 1e3:>10.2f} {t.p90_ms * 1e3:>8.2f} {t.min_ms * 1e3:>8.2f} "
            f"{ratio:>9}  {mark}"
        )

    ours_borda_us: float | None = None
    reference_top: list[int] | None = None
    if have_ours:
        ballots = [smoa.Ballot(scores=s) for s in raw]
        for m in AGG_METHODS:

            def call_top(m: AggregationMethod = m) -> list[int]:
                return smoa.aggregate(ballots, AGG_N, method=m).top(AGG_K)

            def call_top_k(m: AggregationMethod = m) -> list[int]:
                return smoa.top_k(smoa.aggregate(ballots, AGG_N, method=m).scores, AGG_K)

            for variant, fn in (("agg.top(4)", call_top), ("top_k(agg.scores, 4)", call_top_k)):
                t = measure_batched(fn, plan)
                us = t.median_ms * 1e3
                ok = us <= TARGET_AGG_US
                name = f"{OURS} {m} + {variant}"
                line(name, t, "-", ok)
                targets.append({"what": f"{name} <= {TARGET_AGG_US:g} µs", "value": us, "pass": ok})
                results.append({"contender": name, "method": m, **t.as_dict(), "median_us": us, "pass": ok})
                if m == "borda" and variant.startswith("top_k"):
                    ours_borda_us = us
                    reference_top = fn()
        agg = smoa.aggregate(ballots, AGG_N, method="bradley_terry")
        out.append(f"   (bradley_terry ran {agg.iterations} MM iterations on these ballots)")

        def build_and_call() -> list[int]:
            bs = [smoa.Ballot(scores=s) for s in raw]
            return smoa.top_k(smoa.aggregate(bs, AGG_N, method="borda").scores, AGG_K)

        t = measure_batched(build_and_call, plan)
        name = f"{OURS} borda incl. building 5 Ballots"
        line(name, t, "-", None)
        results.append({"contender": name, "method": "borda", **t.as_dict(), "median_us": t.median_ms * 1e3})

    peers: tuple[tuple[str, Callable[[], list[int]]], ...] = (
        ("numpy+scipy rankdata Borda + argsort", lambda: borda_numpy_top_k(raw, AGG_N, AGG_K)),
        ("pure Python Borda + sorted", lambda: borda_pure_top_k(raw, AGG_N, AGG_K)),
    )
    for name, peer in peers:
        t = measure_batched(peer, plan)
        us = t.median_ms * 1e3
        ratio = "-" if ours_borda_us is None else f"{us / ours_borda_us:.1f}x"
        line(name, t, ratio, None)
        agree = None if reference_top is None else peer() == reference_top
        results.append(
            {
                "contender": name,
                "method": "borda",
                **t.as_dict(),
                "median_us": us,
                "peer_over_ours_borda_top_k": None if ours_borda_us is None else us / ours_borda_us,
                "same_top_k_as_ours": agree,
            }
        )
    if reference_top is not None:
        agree_all = all(r.get("same_top_k_as_ours") for r in results if "same_top_k_as_ours" in r)
        out.append(
            f"   peers' Borda top-{AGG_K} {'equals' if agree_all else 'DIFFERS FROM'} ours {reference_top}; "
            "peer/ours is against 'borda + top_k(agg.scores, 4)'"
        )
    n_pass = sum(t["pass"] for t in targets)
    if targets:
        out.append(f"   target <= {TARGET_AGG_US:g} µs per call: {n_pass} of {len(targets)} PASS")
    return {"rows": results, "targets": targets}


# ----------------------------------------------------------------------------------------------------
# Machine details, main
# ----------------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unavailable"


def _rustc() -> str:
    try:
        res = subprocess.run(["rustc", "--version"], capture_output=True, text=True, timeout=10, check=False)
        return res.stdout.strip() or "unavailable"
    except (OSError, subprocess.SubprocessError):
        return "unavailable"


def _sha256(path: str | None) -> str | None:
    """First 16 hex digits of the file's SHA-256, to tell which build produced the figures."""
    if path is None:
        return None
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def machine_info(have_ours: bool, import_error: str | None) -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    module_file: str | None = smoa._core.__file__ if have_ours else None
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": affinity,
        "platform": platform.platform(),
        "load_average_at_start": _loadavg(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "rustc": _rustc(),
        "smoa_core_rs": smoa.__version__ if have_ours else f"NOT AVAILABLE ({import_error})",
        "smoa_core_rs_module": module_file,
        "smoa_core_rs_build": smoa.BUILD if have_ours else None,
        "smoa_core_rs_sha256": _sha256(module_file),
        "MINHASH_AUTO_MIN_N": smoa.MINHASH_AUTO_MIN_N if have_ours else None,
        "rapidfuzz": _version("rapidfuzz"),
        "datasketch": _version("datasketch"),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
    }
    return info


def bench_auto_switch(plan: TimingPlan, seed: int, out: list[str]) -> dict[str, Any]:
    """Whether dedup_near(method="auto") picks the faster join, on the two regimes that decide it: short
    texts (few shared shingles) and long texts sharing boilerplate (many exact-join candidates)."""
    out.append("")
    out.append("## dedup_near auto switch: exact join vs MinHash, and what auto picks (ms, median)")
    out.append(f"   {'corpus':<52} {'exact':>8} {'minhash':>8} {'auto':>8}  auto picked  best")
    boilerplate = TextGenerator(random.Random(seed)).doc(400).render()
    short = make_corpus("1000 x ~130 chars", 1000, 130, 0.05, seed + 100).texts
    long = [
        f"{boilerplate}\n\n{t}\n\n{boilerplate}" for t in make_corpus("", 1000, 2000, 0.05, seed + 101).texts
    ]
    rows: list[dict[str, Any]] = []
    methods: tuple[DedupMethod, ...] = ("exact", "minhash", "auto")
    for label, texts in [
        ("1000 x ~130 chars", short),
        ("1000 x ~2.8 KB, 2 x 400 chars of shared boilerplate", long),
    ]:
        times = {
            m: measure(partial(smoa.dedup_near, texts, threshold=TAU, method=m), plan).median_ms
            for m in methods
        }
        picked = smoa.dedup_near(texts, threshold=TAU).method
        best = min(methods[:2], key=lambda m: times[m])
        out.append(
            f"   {label:<52} {_fmt_ms(times['exact']):>8} {_fmt_ms(times['minhash']):>8} "
            f"{_fmt_ms(times['auto']):>8}  {picked:<11}  {best}"
        )
        rows.append(
            {"corpus": label, **{f"{m}_ms": t for m, t in times.items()}, "auto_picked": picked, "best": best}
        )
    return {"rows": rows}


def bench_hostile(plan: TimingPlan, out: list[str]) -> dict[str, Any]:
    """What an LLM's reply can make the core do: answer keys of a reply that opens \\boxed{ and never closes
    it (once quadratic: 4.8 s at 200k characters), and ballots parsed from a reply naming 100k candidates
    (once quadratic: 1.7 s; now refused past MAX_CANDIDATES before any is read)."""
    out.append("")
    out.append("## Hostile replies: linear time on anything an LLM can emit (ms, median)")
    header = f"   {'call':<52} {'median ms':>10} {'p90 ms':>8}  target"
    out.append(header)
    out.append("   " + "-" * (len(header) - 3))
    unclosed = ("\\boxed{" * 30_000)[:200_000]
    long_ranking = list(range(100_000))
    largest = list(range(smoa.MAX_CANDIDATES))
    rng = random.Random(SEED + 2)
    full_ballots = [smoa.Ballot(scores={i: rng.random() for i in largest}) for _ in range(5)]

    def refused() -> None:
        try:
            smoa.Ballot(ranking=long_ranking)
        except ValueError:
            return
        raise AssertionError("a ballot past MAX_CANDIDATES was accepted")

    calls: dict[str, Callable[[], object]] = {
        "answer_key of 200k chars of unclosed \\boxed{": partial(smoa.answer_key, unclosed),
        "Ballot(ranking=range(100_000)), refused": refused,
        "Ballot(ranking=range(1024)), the largest": partial(smoa.Ballot, ranking=largest),
        "aggregate(borda) of 5 ballots over 1024 candidates": partial(
            smoa.aggregate, full_ballots, smoa.MAX_CANDIDATES
        ),
    }
    rows: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    for name, fn in calls.items():
        t = measure(fn, plan)
        ok = t.median_ms <= TARGET_HOSTILE_MS[name]
        out.append(
            f"   {name:<52} {_fmt_ms(t.median_ms):>10} {_fmt_ms(t.p90_ms):>8}  "
            f"<= {TARGET_HOSTILE_MS[name]:g} ms {'PASS' if ok else 'MISS'}"
        )
        rows.append({"call": name, **t.as_dict(), "pass": ok})
        what = f"{name} <= {TARGET_HOSTILE_MS[name]:g} ms"
        targets.append({"what": what, "value": t.median_ms, "pass": ok})
    quarter = measure(partial(smoa.answer_key, unclosed[:50_000]), plan).median_ms
    ratio = rows[0]["median_ms"] / quarter
    ok = ratio <= TARGET_LINEAR_RATIO
    out.append(
        f"   answer_key time at 200k / at 50k chars: {ratio:.1f}x (linear ~4, quadratic ~16)"
        f"{'':>9}<= {TARGET_LINEAR_RATIO:g}x {'PASS' if ok else 'MISS'}"
    )
    targets.append({"what": f"answer_key 200k/50k <= {TARGET_LINEAR_RATIO:g}x", "value": ratio, "pass": ok})
    return {"rows": rows, "answer_key_200k_over_50k": ratio, "targets": targets}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="few repetitions: a smoke test, not a measurement"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every figure as JSON to PATH")
    parser.add_argument(
        "--sub-rate",
        type=float,
        action="append",
        help="fraction of words substituted in each planted near-duplicate; repeatable (default: 0.05, the "
        "specified rate, then 0.02: at 5%% a ~2 KB near-duplicate keeps J ~ 0.75 < 0.8 of its word 3-grams, "
        "so only the 2%% run has true duplicate pairs there to measure agreement on)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"data seed (default {SEED})")
    args = parser.parse_args(argv)
    args.sub_rate = args.sub_rate or [0.05, 0.02]
    plan = QUICK if args.quick else FULL
    have_ours = _smoa_error is None
    if have_ours and not args.quick:
        require_release_core()

    started = time.perf_counter()
    info = machine_info(have_ours, _smoa_error)
    out: list[str] = [
        "# smoa_core_rs benchmark" + (" (--quick: smoke test, figures not stable)" if args.quick else "")
    ]
    for key, value in info.items():
        out.append(f"   {key:<20} {value}")
    rates = " then ".join(f"{r:.0%}" for r in args.sub_rate)
    out.append(
        f"   data: seed {args.seed}, half of each set are near-duplicates with {rates} of words "
        "substituted; timings: perf_counter_ns, GC off while timing, warm-up then median of runs "
        f"(>= {plan.min_runs} runs and >= {plan.min_time_s:g} s; {plan.slow_runs} runs when one takes "
        f"> {plan.slow_s:g} s); single-threaded peers (rapidfuzz workers=1)"
    )
    out.append(
        "   peer/ours = peer median / ours median (auto), so > 1 means ours is faster; precision/recall are "
        "over clustered pairs i<j vs the exact-Jaccard truth (n/a = no pairs to divide by). rapidfuzz's "
        "fuzz.ratio is an edit-based similarity on the raw text, so its agreement is measured, not assumed."
    )
    if not have_ours:
        out.append(f"   !! smoa_core_rs could not be imported ({_smoa_error}); peers only")
    elif info["smoa_core_rs_build"] != "release":
        out.append("   !! smoa_core_rs is a debug build: smoke test only, no figures (make build-release)")
    print("\n".join(out), flush=True)

    report: dict[str, Any] = {
        "machine": info,
        "quick": args.quick,
        "sub_rate": args.sub_rate,
        "seed": args.seed,
    }
    dedup: list[dict[str, Any]] = []
    for rate in args.sub_rate:
        for i, (label, n, chars) in enumerate(SIZES):
            corpus = make_corpus(f"{label}, {rate:.0%} substituted", n, chars, rate, args.seed + i)
            section: list[str] = []
            dedup.append(bench_dedup(corpus, plan, have_ours, section))
            print("\n".join(section), flush=True)
    report["dedup"] = dedup

    section = []
    report["aggregate"] = bench_aggregate(plan, have_ours, section)
    print("\n".join(section), flush=True)
    if have_ours:
        section = []
        report["auto_switch"] = bench_auto_switch(plan, args.seed, section)
        print("\n".join(section), flush=True)
        section = []
        report["hostile"] = bench_hostile(plan, section)
        print("\n".join(section), flush=True)

    all_targets = [t for d in dedup for t in d["targets"]] + report["aggregate"]["targets"]
    all_targets += report["hostile"]["targets"] if have_ours else []
    missed = [t["what"] for t in all_targets if not t["pass"]]
    summary = [
        "",
        f"## Targets: {len(all_targets) - len(missed)} of {len(all_targets)} PASS"
        + (f"; MISS: {'; '.join(missed)}" if missed else ""),
        f"   (wall time of this run: {time.perf_counter() - started:.1f} s; load average at the end "
        f"{_loadavg()})",
    ]
    print("\n".join(summary), flush=True)
    report["targets_passed"] = len(all_targets) - len(missed)
    report["targets_total"] = len(all_targets)
    report["targets_missed"] = missed

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
