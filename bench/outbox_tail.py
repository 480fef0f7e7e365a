"""A model of the outbox benchmark's retry tail (bench/channels.py, its outbox part): how the
replies answered 503 stretch a run after the backlog is drained, and so how widely the
replies/s figure varies from run to run, whatever the speed of the sends.

Each reply's every attempt is answered 503 with probability `--fail`; the backlog is sent at
`--rate` replies/s; a retry waits 1 s, 2 s, 4 s, ... (optionally jittered) and is claimed
only after the backlog (the claim orders by `run_at`, and the backlog fell due first); `--lag`
adds the up to one polling period an idle worker slept before looking again (before the
worker woke for the next due job).

    python bench/outbox_tail.py --replies 5000 --rate 900
"""

from __future__ import annotations

import argparse
import random
import statistics


def one_run(args: argparse.Namespace, jitter: str, rng: random.Random) -> float:
    drained = args.replies / args.rate
    end = drained
    for i in range(args.replies):
        if rng.random() >= args.fail:
            continue
        t, k = i / args.rate, 1
        while True:
            wait = float(2 ** (k - 1))
            if jitter == "full":
                wait = rng.uniform(0, wait)
            elif jitter == "equal":
                wait = rng.uniform(wait / 2, wait)
            due = t + wait
            t = max(due, drained) + (rng.uniform(0, 1) if args.lag and due > drained else 0)
            if rng.random() >= args.fail:
                break
            k += 1
        end = max(end, t)
    return args.replies / end


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replies", type=int, default=5000)
    p.add_argument("--rate", type=float, default=900.0, help="first sends per second")
    p.add_argument("--fail", type=float, default=0.05)
    p.add_argument("--lag", action="store_true", help="up to 1 s more per retry (old worker)")
    p.add_argument("--runs", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    rng = random.Random(args.seed)
    for jitter in ("none", "equal", "full"):
        rates = sorted(one_run(args, jitter, rng) for _ in range(args.runs))
        under = sum(r < 500 for r in rates) / len(rates)
        print(
            f"jitter {jitter:5}: median {statistics.median(rates):.0f} replies/s,"
            f" p10 {rates[len(rates) // 10]:.0f}, p90 {rates[9 * len(rates) // 10]:.0f},"
            f" runs under 500: {under:.0%}"
        )


if __name__ == "__main__":
    main()
