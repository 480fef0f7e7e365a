"""Triage quality on messages the model never trained on.

Trains on the training part of the shipped corpus, then scores the fixed held-out split,
the "fresh probe" (messages written after a first model was frozen) and the welfare-check
set (reports of someone unreachable, alone or getting worse, and ordinary messages using
the same words; never trained on). Quality, not speed: the numbers are deterministic for a
given corpus and scikit-learn version.

    python bench/triage_quality.py --output bench/results/triage.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from common import REPO_ROOT, RESULTS_DIR, machine_description, pg_dsn
from hotline.triage.corpus import load_corpus, split_corpus
from hotline.triage.evaluate import evaluate
from hotline.triage.model import fit

FRESH_PROBE = REPO_ROOT / "tests" / "triage" / "data" / "fresh_probe.jsonl"
WELFARE = REPO_ROOT / "tests" / "triage" / "data" / "welfare_heldout.jsonl"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "triage.json")
    args = p.parse_args()
    started = datetime.now(UTC)
    train, held_out = split_corpus()
    t0 = time.monotonic()
    model = fit([e.text for e in train], [e.category for e in train], [e.urgent for e in train])
    train_seconds = time.monotonic() - t0
    result = {
        "started_at": started.isoformat(),
        "machine": asyncio.run(machine_description(pg_dsn())),
        "corpus": {"total": len(load_corpus()), "train": len(train), "held_out": len(held_out)},
        "train_seconds": round(train_seconds, 1),
        "held_out": evaluate(model, held_out),
        "fresh_probe": evaluate(model, load_corpus(FRESH_PROBE)),
        "welfare": evaluate(model, load_corpus(WELFARE)),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    for key in ("held_out", "fresh_probe", "welfare"):
        h = result[key]
        print(
            f"{key} n={h['n']} macro-F1={h['macro_f1']} urgent recall={h['urgent']['recall']}"
            f" precision={h['urgent']['precision']}"
            f" false alarms={h['urgent']['false_alarms']} ({h['urgent']['false_alarm_rate']})"
        )


if __name__ == "__main__":
    main()
