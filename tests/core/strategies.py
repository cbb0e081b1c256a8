"""Hypothesis strategies shared by the property tests: texts with near-duplicates, answers, ballots."""

import string

from hypothesis import strategies as st

from tests.core.reference.ballots import BallotData

# Python's str.isalnum and Rust's char::is_alphanumeric disagree on some exotic characters (e.g.
# combining vowel signs with Other_Alphabetic), and the Unicode versions of CPython and the Rust
# crates differ, so texts are drawn from a sensible alphabet only: ASCII printable, Latin-1 letters,
# some Greek and Cyrillic, a few spaces, and characters that NFKC or casefolding change.
ALPHABET = (
    string.printable
    + "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ×÷"  # noqa: RUF001
    + "ΑΒΓΔΕΘΛΞΠΣΦΨΩαβγδεθλξπσςφψω"
    + "АБВГДЕЁЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯабвгдеёжзиклмнопрстуфхцчшщэюя"
    + "\u00a0\u3000\u2009"
    + "ﬁﬂＡＺａｚ０９²³½µſΩⅫ①™…ǅǈ٣"
)
ALPHABET_TEXT = st.text(alphabet=ALPHABET, max_size=40)

WORDS = [
    "the", "cat", "sat", "on", "mat", "Dog", "DOG", "dog!", "ran", "far", "away", "x", "=", "3/4",
    "answer", "is", "42", "1,000", "Straße", "strasse", "ﬁne", "fine", "Ａ", "a", "ΣΟΦΙΑ", "мир", "—", "**",  # noqa: RUF001
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", ", ", ". ", " - ", "**"]


@st.composite
def wordy_text(draw: st.DrawFn, min_words: int = 0, max_words: int = 12) -> str:
    words = draw(st.lists(st.sampled_from(WORDS), min_size=min_words, max_size=max_words))
    pieces = []
    for word in words:
        pieces.append(word)
        pieces.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(pieces)


@st.composite
def edited(draw: st.DrawFn, text: str) -> str:
    """A near-duplicate: a few words substituted, dropped or inserted; case and spacing changed."""
    words = text.split()
    for _ in range(draw(st.integers(0, 2))):
        action = draw(st.sampled_from(["substitute", "drop", "insert", "case"]))
        position = draw(st.integers(0, max(len(words) - 1, 0)))
        if action == "insert" or not words:
            words.insert(position, draw(st.sampled_from(WORDS)))
        elif action == "substitute":
            words[position] = draw(st.sampled_from(WORDS))
        elif action == "drop":
            del words[position]
        else:
            words[position] = words[position].upper()
    return draw(st.sampled_from([" ", "  ", "\n", " * "])).join(words)


@st.composite
def texts_with_near_duplicates(draw: st.DrawFn, min_size: int = 1, max_size: int = 10) -> list[str]:
    """Some base texts plus edited copies of them, shuffled, so clusters are non-trivial."""
    bases = draw(
        st.lists(st.one_of(wordy_text(), wordy_text(min_words=4), ALPHABET_TEXT), min_size=1, max_size=4)
    )
    texts = list(bases)
    target = draw(st.integers(min_size, max_size))
    while len(texts) < target:
        texts.append(draw(edited(draw(st.sampled_from(texts)))))
    return draw(st.permutations(texts[:target]))


THRESHOLDS = st.one_of(
    st.sampled_from([0.0, 0.25, 0.3, 0.5, 0.6, 2 / 3, 0.75, 0.8, 0.9, 1.0]),
    st.floats(0.0, 1.0),
)

ANSWER_FRAGMENTS = [
    "\\boxed{", "}", "{", "(", ")", "answer is", "Answer:", "ANSWER is", "answers", "answer:", "The ",
    "(C)", "C", "B.", "J", "K", "(A", "D)", "Apple", "x = ", "1,250.50", "-0", "+007", "3/4", "-2/06",
    "0.500", "12", "1,2345", "7.", " ", "  ", "\n", ". ", ".", ",", ";", ":", "so", "pie", "ﬁ", "٣", "$",
]  # fmt: skip


@st.composite
def answer_text(draw: st.DrawFn) -> str:
    """Responses stitched from the fragments the answer-key rules care about."""
    fragments = draw(
        st.lists(st.one_of(st.sampled_from(ANSWER_FRAGMENTS), ALPHABET_TEXT), min_size=0, max_size=12)
    )
    return "".join(fragments)


# Dyadic weights keep weighted sums exact, so a mathematical tie stays a tie in floats and Copeland's
# majority test cannot flip on rounding. Scores come from a small grid (ties are common; 0.1 and 0.3
# are not dyadic, so equal scores do not average back to themselves exactly) or are rounded to a
# millesimal so that no spread is small enough to make z-scores ill-conditioned.
WEIGHTS = st.sampled_from([0.25, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0, 3.0])
SCORES = st.one_of(
    st.sampled_from([-2.0, -0.5, 0.0, 0.1, 0.3, 0.5, 1.0, 1.0, 2.0, 3.0, 10.0]),
    st.floats(-1000.0, 1000.0).map(lambda x: round(x, 3)),
)


@st.composite
def ballot_data(draw: st.DrawFn, n: int, with_scores: bool | None = None) -> BallotData:
    seen = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    kind = draw(st.sampled_from(["scores", "ranking", "both"])) if with_scores is None else None
    if with_scores is True:
        kind = draw(st.sampled_from(["scores", "both"]))
    elif with_scores is False:
        kind = "ranking"
    if draw(st.integers(0, 4)) == 0:
        # A judge that cannot tell the candidates apart; non-dyadic levels do not average back exactly.
        level = draw(st.one_of(st.sampled_from([0.1, 0.3, 0.7]), SCORES))
        scores = dict.fromkeys(seen, level) if kind in ("scores", "both") else None
    else:
        scores = {c: draw(SCORES) for c in seen} if kind in ("scores", "both") else None
    ranking = draw(st.permutations(seen)) if kind in ("ranking", "both") else None
    return BallotData(scores=scores, ranking=ranking, weight=draw(WEIGHTS))


@st.composite
def ballots_over(draw: st.DrawFn, with_scores: bool | None = None) -> tuple[list[BallotData], int]:
    n = draw(st.integers(1, 7))
    ballots = draw(st.lists(ballot_data(n, with_scores), min_size=1, max_size=6))
    # Repeat a ballot now and then: identical and near-identical ballots make ties and high W.
    if draw(st.booleans()):
        ballots.append(draw(st.sampled_from(ballots)))
    return ballots, n


similarities = st.floats(0.0, 1.0, allow_subnormal=False)


@st.composite
def similarity_matrices(draw: st.DrawFn, n: int, symmetric: bool = True) -> list[list[float]]:
    matrix = [[1.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i != j and (not symmetric or j > i):
                matrix[i][j] = draw(st.one_of(similarities, st.sampled_from([0.0, 0.5, 1.0])))
                if symmetric:
                    matrix[j][i] = matrix[i][j]
    return matrix
