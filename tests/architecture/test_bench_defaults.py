"""The phone-line benchmark measures the deployed configuration without real-time
scheduling unless asked: the targets must hold without chrt."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_sip_bench_runs_without_real_time_priority_by_default(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("sip_calls", None)
    import sip_calls

    assert sip_calls.parse_args([]).rt_priority == 0
    assert sip_calls.parse_args(["--rt-priority", "20"]).rt_priority == 20
