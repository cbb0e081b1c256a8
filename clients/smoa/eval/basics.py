"""`basics`: a generated evaluation set a small local model answers correctly sometimes, neither never nor
always, so that quality can be compared on this machine's embedded model (on GSM8K it solves nothing).

Every item offers its options in the question's own words ("... Choose from: 42, 32, 43, 40.") and is
graded by the option the response names first (scoring.named_option): a 135M model names its pick far
more often than it writes it in any answer format. Four kinds, interleaved so that `basics:N` covers them
evenly:

| kind | example | options |
|---|---|---|
| `add` | What is 14 + 9? | the sum and three near it (±1, ±2, ±10) |
| `multiply` | What is 7 x 8? | the product and three near it |
| `larger` | Which number is larger, 58 or 85? | the two numbers |
| `fact` | What is the capital of Japan? | the answer and three from the same table |

Addends are 2 to 20, factors 2 to 9, compared numbers 10 to 99 and distinct. Facts come from the tables
below (capitals, opposites, everyday knowledge: 60 questions, none repeated before all were asked). The
generator is seeded (`SEED`): the same version of this file always yields the same items, in the same
order, with the same ids.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from smoa.eval.item import Grading, Item

NAME = "basics"
SEED = 20261202
SIZE = 300

CAPITALS = {
    "France": "Paris",
    "Japan": "Tokyo",
    "Italy": "Rome",
    "Spain": "Madrid",
    "Germany": "Berlin",
    "Egypt": "Cairo",
    "Russia": "Moscow",
    "Canada": "Ottawa",
    "Australia": "Canberra",
    "China": "Beijing",
    "the United Kingdom": "London",
    "Greece": "Athens",
    "Portugal": "Lisbon",
    "Norway": "Oslo",
    "Sweden": "Stockholm",
    "Kenya": "Nairobi",
    "Peru": "Lima",
    "Ireland": "Dublin",
    "Poland": "Warsaw",
    "Austria": "Vienna",
    "Turkey": "Ankara",
    "Thailand": "Bangkok",
    "Argentina": "Buenos Aires",
    "South Korea": "Seoul",
}
OPPOSITES = {
    "hot": "cold",
    "big": "small",
    "up": "down",
    "day": "night",
    "fast": "slow",
    "happy": "sad",
    "open": "closed",
    "light": "dark",
    "wet": "dry",
    "old": "young",
    "early": "late",
    "full": "empty",
    "hard": "soft",
    "high": "low",
    "strong": "weak",
    "win": "lose",
    "left": "right",
    "in": "out",
    "yes": "no",
    "good": "bad",
}
# (question, answer, the pool its distractors come from)
Fact = tuple[str, str, tuple[str, ...]]
KNOWLEDGE: list[Fact] = [
    ("What color is a clear daytime sky?", "blue", ("red", "green", "yellow", "black", "white")),
    ("What color is fresh grass?", "green", ("blue", "red", "purple", "black", "white")),
    ("What color is snow?", "white", ("green", "red", "blue", "black", "orange")),
    ("What color is a ripe banana?", "yellow", ("blue", "purple", "black", "green", "white")),
    ("Which animal says 'moo'?", "cow", ("cat", "dog", "duck", "sheep", "horse")),
    ("Which animal says 'meow'?", "cat", ("cow", "dog", "duck", "pig", "horse")),
    ("Which animal barks?", "dog", ("cat", "cow", "fish", "bird", "sheep")),
    ("Which of these can fly?", "bird", ("fish", "cow", "snake", "horse", "pig")),
    ("Which of these lives in water?", "fish", ("cow", "horse", "lion", "goat", "camel")),
    ("What do bees make?", "honey", ("milk", "silk", "wool", "bread", "cheese")),
    ("What falls from clouds when it rains?", "water", ("sand", "milk", "oil", "salt", "ash")),
    ("Which planet do we live on?", "Earth", ("Mars", "Venus", "Jupiter", "Saturn", "Mercury")),
    ("What do you use to see?", "eyes", ("ears", "hands", "feet", "knees", "elbows")),
    ("What do you use to hear?", "ears", ("eyes", "hands", "feet", "nose", "elbows")),
    ("Which season is the coldest?", "winter", ("summer", "spring", "autumn")),
    ("What is frozen water called?", "ice", ("steam", "sand", "glass", "salt", "smoke")),
]

Make = Callable[[random.Random, int], Item]


def facts() -> list[Fact]:
    """Every fact question once."""
    capitals = tuple(sorted(CAPITALS.values()))
    opposites = tuple(sorted(OPPOSITES.values()))
    return [
        *((f"What is the capital of {country}?", city, capitals) for country, city in CAPITALS.items()),
        *((f"What is the opposite of '{word}'?", other, opposites) for word, other in OPPOSITES.items()),
        *KNOWLEDGE,
    ]


def _item(
    number: int, kind: str, question: str, answer: str, others: Sequence[str], rng: random.Random
) -> Item:
    options = [answer, *others]
    rng.shuffle(options)
    return Item(f"{NAME}-{number:03d}", NAME, question, Grading.OPTION, answer, tuple(options), category=kind)


def _near(value: int, rng: random.Random) -> list[str]:
    """Three wrong (positive) numbers a slip would give."""
    slips = sorted(value + d for d in (-10, -2, -1, 1, 2, 10) if value + d > 0)
    return [str(v) for v in rng.sample(slips, 3)]


def _add(rng: random.Random, number: int) -> Item:
    a, b = rng.randint(2, 20), rng.randint(2, 20)
    return _item(number, "add", f"What is {a} + {b}?", str(a + b), _near(a + b, rng), rng)


def _multiply(rng: random.Random, number: int) -> Item:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return _item(number, "multiply", f"What is {a} x {b}?", str(a * b), _near(a * b, rng), rng)


def _larger(rng: random.Random, number: int) -> Item:
    a, b = rng.sample(range(10, 100), 2)
    question = f"Which number is larger, {a} or {b}?"
    return _item(number, "larger", question, str(max(a, b)), [str(min(a, b))], rng)


class _Facts:
    """Fact questions without repeats until every one was asked, in an order the seed fixes."""

    def __init__(self, rng: random.Random):
        self.deck: list[Fact] = []
        self.rng = rng

    def __call__(self, rng: random.Random, number: int) -> Item:
        if not self.deck:
            self.deck = facts()
            self.rng.shuffle(self.deck)
        question, answer, pool = self.deck.pop()
        return _item(number, "fact", question, answer, rng.sample([p for p in pool if p != answer], 3), rng)


def basics(size: int = SIZE, seed: int = SEED) -> list[Item]:
    """`size` items, the kinds in turn."""
    rng = random.Random(seed)
    kinds: tuple[Make, ...] = (_add, _multiply, _larger, _Facts(rng))
    return [kinds[number % len(kinds)](rng, number) for number in range(size)]
