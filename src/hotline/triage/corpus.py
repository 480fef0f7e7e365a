"""The labelled corpus shipped with the project and its fixed train / held-out split.

The held-out split is drawn from `corpus.jsonl` alone; the other files of `corpus/` (added
for a kind of message the first corpus lacked, such as `welfare.jsonl`) are training only,
each measured on its own held-out set under `tests/triage/data/`. So adding training data
never moves a message between training and the held-out split, and the metrics stored with
every model version stay comparable."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sklearn.model_selection import train_test_split

CORPUS_DIR = Path(__file__).parent / "corpus"
SPLIT_FILE = CORPUS_DIR / "corpus.jsonl"
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
    """(train, held_out): `corpus.jsonl` stratified by category and urgency, seeded, so
    always the same; the other corpus files all go to training."""
    examples = load_corpus(SPLIT_FILE)
    extra = tuple(
        e
        for file in sorted(CORPUS_DIR.glob("*.jsonl"))
        if file != SPLIT_FILE
        for e in load_corpus(file)
    )
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
    return tuple(train) + tuple(small) + extra, tuple(test)
