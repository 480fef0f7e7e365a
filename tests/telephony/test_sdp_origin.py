"""What the line's SDP says of itself, as a real peer (sipp) receives it: a neutral origin
user name and session name, a session id random per call, and a version that goes up by one
with each new answer in the dialog (RFC 3264 §8), here the answer to a hold re-INVITE."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.telephony.conftest import Line

pytestmark = pytest.mark.anyio
ORIGIN = re.compile(r"^o=(\S+) (\d+) (\d+) IN IP4 127\.0\.0\.1$")


async def call_with_hold(line: Line, log_file: Path) -> dict[str, str]:
    """One sipp call with a hold re-INVITE: the logged `what value` lines, by what."""
    extra = ("-trace_logs", "-log_file", str(log_file))
    result = await line.sipp("reinvite_hold_origin.xml", extra=extra)
    assert result.returncode == 0, result.output
    logged = log_file.read_text()
    return dict(line.split(" ", 1) for line in logged.splitlines() if line.strip())


async def test_the_sdp_names_no_software_and_its_version_goes_up_in_the_dialog(
    line: Line, tmp_path: Path
):
    first = await call_with_hold(line, tmp_path / "first.log")
    assert first["answer-name"] == first["reanswer-name"] == "s=-"
    answer = ORIGIN.match(first["answer-origin"])
    reanswer = ORIGIN.match(first["reanswer-origin"])
    assert answer is not None and reanswer is not None, first
    assert answer[1] == reanswer[1] == "-"
    assert answer[2] == reanswer[2]  # one session for the dialog
    assert int(reanswer[3]) == int(answer[3]) + 1
    # Another call is another session: its id is not the first one's (random per call).
    second = await call_with_hold(line, tmp_path / "second.log")
    other = ORIGIN.match(second["answer-origin"])
    assert other is not None and other[2] != answer[2]
