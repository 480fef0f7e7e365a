"""The labelled corpus shipped with the project and its fixed train / held-out split."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sklearn.model_selection import train_test_split

CORPUS_DIR = Path(__file__).parent / "corpus"
HELD_OUT_FRACTION = 0.2
SPLIT_SEED = 1022


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    urgent: bool


@cache
def load_corpus(path: Path | None = None) -> tuple[Example, ...]:
    """Every line of corpus/*.jsonl as an Example (read once per process)."""
    files = [path] if path else sorted(CORPUS_DIR.glob("*.jsonl"))
    out: list[Example] = []
    for file in files:
        for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out.append(Example(str(row["text"]), str(row["category"]), bool(row["urgent"])))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{file.name}:{n}: {exc}") from None
    return tuple(out)


@cache
def split_corpus() -> tuple[tuple[Example, ...], tuple[Example, ...]]:
    """(train, held_out): stratified by category and urgency, seeded, so always the same."""
    examples = load_corpus()
    strata = [f"{e.category}/{e.urgent}" for e in examples]
    # A stratum too small to split goes whole to training.
    counts = {s: strata.count(s) for s in set(strata)}
    splittable = [e for e, s in zip(examples, strata, strict=True) if counts[s] >= 5]
    small = [e for e, s in zip(examples, strata, strict=True) if counts[s] < 5]
    train, test = train_test_split(
        splittable,
        test_size=HELD_OUT_FRACTION,
        random_state=SPLIT_SEED,
        stratify=[f"{e.category}/{e.urgent}" for e in splittable],
    )
    return tuple(train) + tuple(small), tuple(test)
