"""The line's session refresh (RFC 4028) against a real peer (sipp): its refresher parameter
read and written from the line's side as UAC of the refresh; and a refresh answered 491
Request Pending, retried once after a random wait (RFC 3261 §14.1), every answer ACKed, a
second refusal ending no healthy call before its session expires."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hotline.settings import Settings
from tests.telephony.conftest import Line, line_settings, start_line

pytestmark = pytest.mark.anyio


@pytest.fixture
async def timed_line(settings: Settings, sipp_installed: None) -> AsyncIterator[Line]:
    """Session timers of a few seconds (the least the RFC allows is 90); the caller stays in
    the menu meanwhile."""
    values = {"sip_min_se": 2, "sip_session_expires": 1800, "sip_digit_timeout": 30.0}
    running = await start_line(line_settings(settings, **values))
    yield running
    await running.phone.stop()


async def test_a_refresh_answered_491_is_retried_and_a_second_491_drops_no_call(
    timed_line: Line,
):
    # sipp checks each step: 491 ACKed then retried (answered 200), the next refresh 491
    # and its retry 491, both ACKed; then no BYE: its own UPDATE is answered 200.
    result = await timed_line.sipp("refresh_491_caller_refreshes.xml")
    assert result.returncode == 0, result.output
    [call] = await timed_line.calls()
    assert (call.ended_by, call.release_cause) == ("caller", "caller_hangup")


async def test_a_session_refused_twice_and_not_refreshed_ends_when_it_expires(
    timed_line: Line,
):
    result = await timed_line.sipp("refresh_491_session_expires.xml")
    assert result.returncode == 0, result.output
    [call] = await timed_line.calls()
    assert (call.ended_by, call.release_cause) == ("line", "session_expired")


# In a refresh the line sends, the line is the UAC: `refresher=uac` names the line and
# `refresher=uas` the caller (RFC 4028 §7.4, §9, §10), the reverse of the initial INVITE.


async def test_a_refresh_answered_refresher_uac_leaves_the_line_refreshing(timed_line: Line):
    # sipp answers both re-INVITEs 200 with refresher=uac and expects a second refresh, not a
    # BYE: the healthy call lasts until the caller hangs up.
    result = await timed_line.sipp("refresh_answered_uac_line_goes_on.xml")
    assert result.returncode == 0, result.output
    [call] = await timed_line.calls()
    assert (call.ended_by, call.release_cause) == ("caller", "caller_hangup")


async def test_the_line_asks_to_refresh_itself_and_a_peer_answering_uas_takes_over(
    timed_line: Line,
):
    # sipp checks the line's UPDATE says refresher=uac, answers refresher=uas, and then
    # expects no further refresh from the line: the caller has the refreshes now, and
    # since it makes none, the session expires.
    result = await timed_line.sipp("refresh_update_answered_uas_caller_takes_over.xml")
    assert result.returncode == 0, result.output
    [call] = await timed_line.calls()
    assert (call.ended_by, call.release_cause) == ("line", "session_expired")


async def test_a_refresh_answered_422_is_asked_again_with_the_peers_min_se(timed_line: Line):
    # sipp answers the first UPDATE 422 (Min-SE: 8), checks the line asks again with 8 s and
    # grants it; the line goes on refreshing until the caller hangs up.
    result = await timed_line.sipp("refresh_422_asked_again_with_min_se.xml")
    assert result.returncode == 0, result.output
    [call] = await timed_line.calls()
    assert (call.ended_by, call.release_cause) == ("caller", "caller_hangup")
