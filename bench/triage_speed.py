"""Triage classification throughput on one core (target: ≥ 2,000 texts/s).

The product: `hotline.triage.service.suggest` (what `POST /api/v1/triage` and
`hotline triage classify` run) with a model loaded from its stored blob, as `active_model`
loads it, restricted to the default categories as `classify` does; one text at a time over the
corpus and the fresh probe, repeated to at least 10,000 classifications per run, median of the
runs. Baseline in the same run: the same `suggest` with the model predicting through
scikit-learn (`FeatureUnion.transform`, `CalibratedClassifierCV.predict_proba`, the way
prediction ran before the compiled path), one pass over the texts per run. Both give the same
suggestions (checked on every text before timing). The batch command `hotline triage classify`
is timed too, as a subprocess fed every text once (start-up measured apart).

    python bench/triage_speed.py --output bench/results/triage_speed.json
"""

from __future__ import annotations

import os

# One core, one thread: set before numpy (via scikit-learn) is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.calibration import CalibratedClassifierCV  # noqa: E402

from common import REPO_ROOT, RESULTS_DIR, machine_description, median, pg_dsn  # noqa: E402
from hotline.directory.defaults import DEFAULT_CATEGORIES  # noqa: E402
from hotline.triage.corpus import load_corpus, split_corpus  # noqa: E402
from hotline.triage.model import PHRASES_SHOWN, Prediction, TriageModel, fit  # noqa: E402
from hotline.triage.normalise import normalise  # noqa: E402
from hotline.triage.service import suggest  # noqa: E402

FRESH_PROBE = REPO_ROOT / "tests" / "triage" / "data" / "fresh_probe.jsonl"
TARGET = 2000.0


class SklearnPipelineModel(TriageModel):
    """The baseline: prediction as it ran before the compiled path, through scikit-learn."""

    def predict(self, text: str, *, allowed: set[str] | None = None) -> Prediction:
        x = self.features.transform([normalise(text)])
        probs = self.category_clf.predict_proba(x)[0]
        ranked = sorted(
            ((str(c), float(p)) for c, p in zip(self.category_clf.classes_, probs, strict=True)),
            key=lambda cp: -cp[1],
        )
        if allowed:
            kept = [(c, p) for c, p in ranked if c in allowed]
            total = sum(p for _, p in kept)
            if kept and total > 0:
                ranked = [(c, p / total) for c, p in kept]
        urgent_p = 0.0
        urgent_phrases: list[str] = []
        if self.urgent_clf is not None:
            urgent_p = float(self.urgent_clf.predict_proba(x)[0][1])
            urgent_phrases = self._sk_phrases(
                x, self.urgent_clf, list(self.urgent_clf.classes_), True
            )
        category_phrases = self._sk_phrases(x, self.category_clf, self.categories, ranked[0][0])
        return Prediction(ranked, urgent_p, category_phrases, urgent_phrases)

    def _sk_phrases(self, x: Any, clf: Any, classes: list[Any], label: Any) -> list[str]:
        word_vec = self.features.transformer_list[0][1]
        n_words = len(word_vec.vocabulary_)
        row = x.tocsr()[0]
        if isinstance(clf, CalibratedClassifierCV):
            weights = np.mean([c.estimator.coef_ for c in clf.calibrated_classifiers_], axis=0)
        else:
            weights = clf.coef_
        if weights.shape[0] == 1:
            coef = weights[0] * (1 if label == classes[1] else -1)
        else:
            coef = weights[classes.index(label)]
        names = self._word_names()
        scored = [
            (float(v) * float(coef[j]), str(names[j]))
            for j, v in zip(row.indices, row.data, strict=True)
            if j < n_words and coef[j] > 0
        ]
        scored.sort(reverse=True)
        top = [name for _, name in scored[: PHRASES_SHOWN * 3]]
        kept = [n for n in top if not any(n != o and n in o.split() for o in top)]
        return kept[:PHRASES_SHOWN]


def throughput(model: TriageModel, texts: list[str], names: dict[str, str]) -> float:
    allowed = set(names)
    t0 = time.perf_counter()
    for text in texts:
        suggest(model, text, version=1, allowed=allowed, names=names)
    return len(texts) / (time.perf_counter() - t0)


def same_suggestions(
    a: TriageModel, b: TriageModel, texts: list[str], names: dict[str, str]
) -> int:
    """How many texts get a different category, urgency or reasons (confidence to 1e-9)."""
    allowed, differ = set(names), 0
    for text in texts:
        x = suggest(a, text, allowed=allowed, names=names)
        y = suggest(b, text, allowed=allowed, names=names)
        if (x.category, x.urgent, x.reasons, [c["category"] for c in x.alternatives]) != (
            y.category,
            y.urgent,
            y.reasons,
            [c["category"] for c in y.alternatives],
        ) or abs(x.confidence - y.confidence) > 1e-9:
            differ += 1
    return differ


def cli_run(texts: list[str], var_dir: Path) -> float:
    """Wall seconds of `hotline triage classify` over these lines (a fresh, empty var dir:
    no database yet, so it uses the shipped corpus's model, as on a fresh install)."""
    env = dict(os.environ, HOTLINE_VAR_DIR=str(var_dir), HOTLINE_DATABASE_URL="")
    env.pop("PYTHONUNBUFFERED", None)  # stdout buffered, as in a normal shell
    env["PYTHONPATH"] = str(REPO_ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    data = "".join(t.replace("\n", " ") + "\n" for t in texts).encode()
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "hotline.cli", "triage", "classify"],
        input=data,
        capture_output=True,
        env=env,
        check=True,
    )
    took = time.perf_counter() - t0
    lines = done.stdout.decode().splitlines()
    if len(lines) != len(texts) or not all(json.loads(line)["category"] for line in lines):
        raise SystemExit(f"classify printed {len(lines)} lines for {len(texts)} texts")
    return took


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--output", type=Path, default=RESULTS_DIR / "triage_speed.json")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--min-texts", type=int, default=10_000)
    p.add_argument("--baseline-runs", type=int, default=3)
    p.add_argument("--cpu", type=int, default=None, help="core to pin to (default: the last)")
    args = p.parse_args()
    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # inherited by the `classify` subprocess
    started = datetime.now(UTC)
    machine = asyncio.run(machine_description(pg_dsn()))

    train, _ = split_corpus()
    fitted = fit([e.text for e in train], [e.category for e in train], [e.urgent for e in train])
    blob = fitted.to_bytes()
    model = TriageModel.from_bytes(blob)  # as active_model loads the stored version
    loaded = TriageModel.from_bytes(blob)
    baseline = SklearnPipelineModel(loaded.features, loaded.category_clf, loaded.urgent_clf)
    names = {code: name_vi for code, name_vi, *_ in DEFAULT_CATEGORIES}

    texts = [e.text for e in load_corpus()] + [e.text for e in load_corpus(FRESH_PROBE)]
    differ = same_suggestions(model, baseline, texts, names)
    repeat = -(-args.min_texts // len(texts))
    timed = texts * repeat

    throughput(model, texts[:200], names)  # warm-up: compile, caches
    throughput(baseline, texts[:50], names)
    product_runs, baseline_runs = [], []
    for i in range(max(args.runs, args.baseline_runs)):
        if i < args.runs:
            product_runs.append(throughput(model, timed, names))
            print(f"run {i + 1}: product {product_runs[-1]:,.0f} texts/s", flush=True)
        if i < args.baseline_runs:
            baseline_runs.append(throughput(baseline, texts, names))
            print(f"run {i + 1}: baseline {baseline_runs[-1]:,.0f} texts/s", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        startup = median([cli_run([], Path(tmp) / f"s{i}") for i in range(3)]) or 0.0
        cli_wall = [cli_run(timed, Path(tmp) / f"r{i}") for i in range(args.runs)]
    cli_median = median(cli_wall) or 0.0
    cli_rate = len(timed) / (cli_median - startup)

    prod, base = median(product_runs) or 0.0, median(baseline_runs) or 0.0
    result = {
        "started_at": started.isoformat(),
        "machine": machine,
        "config": {
            "cpu": cpu,
            "threads": 1,
            "texts": len(texts),
            "classifications_per_run": len(timed),
            "runs": args.runs,
            "baseline_classifications_per_run": len(texts),
            "baseline_runs": args.baseline_runs,
        },
        "loadavg_1m_end": os.getloadavg()[0],
        "product": {
            "texts_per_s_median": round(prod, 1),
            "runs": [round(r, 1) for r in product_runs],
        },
        "baseline": {
            "texts_per_s_median": round(base, 1),
            "runs": [round(r, 1) for r in baseline_runs],
        },
        "speedup_vs_baseline": round(prod / base, 2) if base else None,
        "suggestions_differing_from_baseline": differ,
        "cli": {
            "lines": len(timed),
            "wall_s_median": round(cli_median, 2),
            "startup_s_median": round(startup, 2),
            "lines_per_s_after_startup": round(cli_rate, 1),
        },
        "target_texts_per_s": TARGET,
        "passed": prod >= TARGET and differ == 0,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(
        f"product {prod:,.0f} texts/s, baseline {base:,.0f} texts/s (×{prod / base:.1f}),"
        f" {differ} differing; classify {cli_rate:,.0f} lines/s after {startup:.1f} s start-up"
    )


if __name__ == "__main__":
    main()
