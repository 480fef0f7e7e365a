"""The commands that prepare the database and start the programs: the web app, the job
worker and the phone line, alone or all on one machine (`hotline run`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Coroutine
from typing import Any

import typer

from hotline.cli.common import command_settings, console, run_in_uow, start_logging


def migrate() -> None:
    """Upgrade the database schema to the latest version and load places and defaults."""
    from hotline.migrate import upgrade
    from hotline.setup import bootstrap

    settings = command_settings()
    upgrade(settings.effective_database_url)
    counts = run_in_uow(settings, lambda s: bootstrap(s, province_code=settings.site_province_code))
    console.print(f"[green]Cơ sở dữ liệu đã sẵn sàng[/green] {counts}")


def demo(
    profile: str = typer.Option(
        "recent", "--profile", help="binh-duong-2021, ha-noi-2021 or recent"
    ),
    seed: int = typer.Option(1022, "--seed"),
) -> None:
    """Load realistic demo cases and calls for a profile."""
    from hotline.demo.load import load_profile

    settings = command_settings()
    load_profile(settings, profile, seed=seed, console=console)


def serve(
    host: str | None = typer.Option(None, "--host"),
    port: int | None = typer.Option(None, "--port"),
    workers: int = typer.Option(1, "--workers"),
) -> None:
    """Serve the web app and API."""
    import uvicorn

    settings = command_settings()
    start_logging(settings)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker process counts in files there and /metrics sums them (metrics.py);
        # emptied first, or a previous run's counts would be added in.
        shared = settings.var_dir / "prometheus"
        shutil.rmtree(shared, ignore_errors=True)
        shared.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared.resolve())
    uvicorn.run(
        "hotline.app:app_from_env",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=False,  # the app writes its own, with the request id (web/observe.py)
        log_config=None,  # logs.py formats uvicorn's lines too
        # X-Forwarded-For decides the address sign-in and public throttles count: believed
        # only from the proxies the settings name (uvicorn's default trusts any local peer).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


def worker(
    once: bool = typer.Option(False, "--once", help="Run due work once and exit"),
    processes: int = typer.Option(
        0,
        "--processes",
        min=0,
        help="Worker processes sharing the job table (PostgreSQL; 0: HOTLINE_WORKER_PROCESSES)",
    ),
    jobs_only: bool = typer.Option(False, "--jobs-only", hidden=True),
) -> None:
    """Run durable jobs and the deadline sweep."""
    import subprocess

    # Every table, so that foreign keys between domains resolve whichever job runs first
    # (the deadline sweep writes a unit's counter before anything imported the units).
    import hotline.models  # noqa: F401
    from hotline.jobs.worker import run_worker
    from hotline.staffing.jobs import sweeps

    settings = command_settings()
    start_logging(settings)
    count = processes or settings.worker_processes
    if once or jobs_only or not settings.effective_database_url.startswith("postgresql"):
        count = 1  # SQLite has one writer: one worker
    # The further processes only run jobs (each leased to one process: SKIP LOCKED); the
    # sweeps and mailboxes stay with this one. They end with it (_end_with_parent).
    helpers = [
        subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "worker", "--jobs-only"],
            preexec_fn=_end_with_parent,
        )
        for _ in range(count - 1)
    ]

    async def until_stopped() -> None:
        # SIGTERM (a restart; a further process gets it from its group and again from this
        # one) or Ctrl-C: the jobs held end and are recorded before it returns.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(
            settings, once=once, sweeps=sweeps(settings), jobs_only=jobs_only, stop=stop
        )

    try:
        _run_on_uvloop(until_stopped())
    finally:
        for helper in helpers:
            helper.terminate()
        for helper in helpers:
            helper.wait(timeout=60)  # its sends in flight end within their timeouts


def _run_on_uvloop(main: Coroutine[Any, Any, None]) -> None:
    """Run the worker on uvloop where it is installed, as uvicorn (`--loop auto`) runs the
    web processes: a worker spends much of its CPU writing to sockets (providers,
    PostgreSQL), which costs a fraction of the standard loop's on uvloop."""
    try:
        import uvloop
    except ImportError:  # not on Windows
        asyncio.run(main)
    else:
        uvloop.run(main)


def sip(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (UDP)"),
    port: int | None = typer.Option(None, "--port", help="SIP port (default 5080)"),
) -> None:
    """Run the phone line alone: SIP user agent, voice menu, call records."""
    from hotline.telephony.server import serve as serve_sip

    settings = command_settings()
    start_logging(settings)
    if host:
        settings.sip_host = host
    if port:
        settings.sip_port = port
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_sip(settings))


def run() -> None:
    """Everything on one machine: migrate, load demo data if empty, worker, web."""
    import subprocess

    from hotline.demo.load import DEMO_USERS, is_empty, load_profile, refresh_roster

    settings = command_settings()
    migrate()
    if asyncio.run(is_empty(settings)):
        load_profile(settings, "recent", console=console)
    else:
        # A demo loaded in an earlier week: this week's shifts get people too.
        asyncio.run(refresh_roster(settings))
    console.print(
        f"\n[bold]Hotline 1022[/bold] đang chạy tại http://{settings.host}:{settings.port}"
    )
    console.print("Tài khoản mẫu (tên đăng nhập / mật khẩu):")
    for username, role, password, _unit in DEMO_USERS:
        console.print(f"  {username:<10} {password:<14} {role.value}")
    console.print(
        f"Tổng đài SIP (UDP) tại {settings.sip_host}:{settings.sip_port}, "
        f"nhận cuộc gọi từ {', '.join(settings.sip_trunk_networks)}"
    )
    # The worker and the phone line run in their own processes: slow jobs never hold up web
    # requests, and web load never delays the 20 ms audio clock.
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", command], preexec_fn=_end_with_parent
        )
        for command in ("worker", "sip")
    ]
    try:
        serve(host=None, port=None, workers=1)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=15)


def _end_with_parent() -> None:
    """In the child, before it runs: Linux sends it SIGTERM when `hotline run` dies, however
    it dies (kill -9 included), so no worker or phone line is left holding its port."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
