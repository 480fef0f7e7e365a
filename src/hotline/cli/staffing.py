"""`hotline staffing ...`: shifts and the staffing forecast."""

from __future__ import annotations

import typer

staffing_app = typer.Typer(help="Shifts and the staffing forecast.", no_args_is_help=True)


@staffing_app.command("backtest")
def staffing_backtest(
    profile: str = typer.Option("binh-duong-2021", "--profile", help="Demo profile"),
    test_days: int = typer.Option(7, "--test-days", help="Days forecast at the end"),
    seed: int = typer.Option(1022, "--seed"),
) -> None:
    """Forecast the last days of a demo profile's calls from the days before; print the
    error (MAPE) against what happened."""
    from zoneinfo import ZoneInfo

    from hotline.demo.profiles import TZ, build_profile
    from hotline.staffing.backtest import backtest
    from hotline.staffing.forecast import QUEUE

    built = build_profile(profile, seed=seed)
    calls = [
        (c.started_at, c.outcome == "answered", c.talk_seconds)
        for c in built.calls
        if c.branch == QUEUE and c.outcome != "outside_hours"
    ]
    tz: ZoneInfo = TZ
    result = backtest(calls, first=built.start, last=built.end, test_days=test_days, tz=tz)
    typer.echo(f"profile {built.name}: {built.start} to {built.end}, operator-queue calls")
    typer.echo(
        f"history: {result.history_days} days; forecast: {result.test_first} to {result.test_last}"
    )
    typer.echo(
        f"calls: actual {result.calls_actual}, forecast {result.calls_forecast:.0f} "
        f"({result.calls_forecast / max(result.calls_actual, 1) - 1:+.1%})"
    )
    typer.echo(
        f"MAPE per half-hour: {result.mape_half_hour:.1%} "
        f"({result.half_hours} half-hours with 5 calls or more)"
    )
    typer.echo(f"MAPE per hour: {result.mape_hour:.1%}")
    typer.echo(f"MAPE per day: {result.mape_day:.1%}")
    typer.echo(f"WAPE per half-hour (all): {result.wape_half_hour:.1%}")
