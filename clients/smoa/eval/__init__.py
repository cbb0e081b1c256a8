"""smoa.eval: SMoA vs dense MoA vs a single model on offline benchmarks, with a report.

SMoA (Li et al. 2024) claims quality comparable to dense MoA at much lower cost. `smoa eval` (and
`evaluate` behind it) checks that on your own models: the same items, the same services and backend,
the same seeds, every system; accuracy or an LLM judge's score with intervals, tokens, calls, latency and
where SMoA stopped; paired tests that say whether a difference is within noise.

Importing this package needs only the SDK; the eval extra (`pip install 'smoa[eval]'`: openai, rich,
matplotlib) is imported when the judge, the progress bar or the plots are used, and exact answers are
scored with smoa-core-rs (installed with the services).
"""

from smoa.eval.datasets import BUILT_IN, load
from smoa.eval.evaluation import Evaluation, Report, evaluate, write_report
from smoa.eval.item import Grading, Item
from smoa.eval.record import ItemResult
from smoa.eval.systems import DEFAULT_SYSTEMS, SYSTEMS, EvalSettings, System

__all__ = [
    "BUILT_IN",
    "DEFAULT_SYSTEMS",
    "SYSTEMS",
    "EvalSettings",
    "Evaluation",
    "Grading",
    "Item",
    "ItemResult",
    "Report",
    "System",
    "evaluate",
    "load",
    "write_report",
]
