"""`basics`: a generated evaluation set a small local model answers correctly sometimes, neither never nor
always, so that quality can be compared on this machine's embedded model (on GSM8K it solves nothing).

Every item has one exact answer that the core's answer keys read: a number (EXACT) or an option letter
(CHOICE). Five kinds, interleaved so that `basics:N` covers all of them evenly:

| kind | example | answer |
|---|---|---|
| `add` | What is 47 + 38? | 85 (two numbers from 10 to 99) |
| `subtract` | What is 91 - 27? | 64 (the larger first) |
| `multiply` | What is 7 x 8? | 56 (one-digit factors from 2 to 9) |
| `larger` | Which number is larger, 58 or 85? | 85 (two distinct numbers from 10 to 99) |
| `fact` | What is the capital of Japan? A. Lima B. Tokyo C. Oslo D. Cairo | B (four options) |

Facts come from the tables below (capitals, opposites, everyday knowledge: 60 questions, none repeated
before all were asked), each with three distractors drawn from the same table and the options shuffled.
The generator is seeded (`SEED`): the same version of this file always yields the same items, in the
same order, with the same ids.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from smoa.eval.item import LETTERS, Grading, Item

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
KNOWLEDGE: list[tuple[str, str, tuple[str, ...]]] = [
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


def _choice_item(number: int, question: str, answer: str, pool: Sequence[str], rng: random.Random) -> Item:
    options = [answer, *rng.sample([p for p in pool if p != answer], 3)]
    rng.shuffle(options)
    return Item(
        f"{NAME}-{number:03d}",
        NAME,
        question,
        Grading.CHOICE,
        LETTERS[options.index(answer)],
        tuple(options),
        category="fact",
    )


def _exact_item(number: int, question: str, answer: int, kind: str) -> Item:
    return Item(f"{NAME}-{number:03d}", NAME, question, Grading.EXACT, str(answer), category=kind)


def _add(rng: random.Random, number: int) -> Item:
    a, b = rng.randint(10, 99), rng.randint(10, 99)
    return _exact_item(number, f"What is {a} + {b}?", a + b, "add")


def _subtract(rng: random.Random, number: int) -> Item:
    a, b = sorted(rng.sample(range(10, 100), 2), reverse=True)
    return _exact_item(number, f"What is {a} - {b}?", a - b, "subtract")


def _multiply(rng: random.Random, number: int) -> Item:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return _exact_item(number, f"What is {a} x {b}?", a * b, "multiply")


def _larger(rng: random.Random, number: int) -> Item:
    a, b = rng.sample(range(10, 100), 2)
    return _exact_item(number, f"Which number is larger, {a} or {b}?", max(a, b), "larger")


Fact = tuple[str, str, tuple[str, ...]]


def facts() -> list[Fact]:
    """Every fact question once: (question, answer, the pool its distractors come from)."""
    capitals = tuple(sorted(CAPITALS.values()))
    opposites = tuple(sorted(OPPOSITES.values()))
    return [
        *((f"What is the capital of {country}?", city, capitals) for country, city in CAPITALS.items()),
        *((f"What is the opposite of '{word}'?", other, opposites) for word, other in OPPOSITES.items()),
        *KNOWLEDGE,
    ]


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
        return _choice_item(number, question, answer, pool, rng)


def basics(size: int = SIZE, seed: int = SEED) -> list[Item]:
    """`size` items, the kinds in turn."""
    rng = random.Random(seed)
    kinds: tuple[Make, ...] = (_add, _subtract, _multiply, _larger, _Facts(rng))
    return [kinds[number % len(kinds)](rng, number) for number in range(size)]
