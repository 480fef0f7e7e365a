"""The `hotline` command. Thin: each command delegates to a service."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from hotline.settings import Settings, load_settings

app = typer.Typer(
    help="Hotline 1022: tổng đài tiếp nhận và xử lý phản ánh của người dân.", no_args_is_help=True
)
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")
triage_app = typer.Typer(help="Category and urgency suggestions.", no_args_is_help=True)
app.add_typer(triage_app, name="triage")
kb_app = typer.Typer(help="Knowledge base (hỏi đáp).", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
staffing_app = typer.Typer(help="Shifts and the staffing forecast.", no_args_is_help=True)
app.add_typer(staffing_app, name="staffing")
console = Console(stderr=True)
T = TypeVar("T")


def _run_in_uow(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    # Every model, before the first query: a command importing only its own service (auth's
    # accounts) leaves the tables its models' foreign keys name (`unit`) unknown.
    import hotline.models  # noqa: F401
    from hotline.db import create_engine, make_sessionmaker
    from hotline.eventfeed import Waker
    from hotline.events import committed
    from hotline.site import Site

    async def main() -> T:
        engine = create_engine(settings.effective_database_url)
        # The command's events go to the event log with its changes; the web processes
        # are woken before it exits.
        waker = Waker(settings, engine)
        await waker.start()
        try:
            sessionmaker = make_sessionmaker(engine, Site.from_settings(settings))
            async with committed(sessionmaker, waker) as session:
                return await work(session)
        finally:
            await waker.stop()
            await engine.dispose()

    return asyncio.run(main())


def _settings() -> Settings:
    settings = load_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _logging(settings: Settings) -> None:
    from hotline.logs import configure_logging

    configure_logging(environment=settings.environment, level=settings.log_level)


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest version and load places and defaults."""
    from hotline.migrate import upgrade
    from hotline.setup import bootstrap

    settings = _settings()
    upgrade(settings.effective_database_url)
    counts = _run_in_uow(
        settings, lambda s: bootstrap(s, province_code=settings.site_province_code)
    )
    console.print(f"[green]Cơ sở dữ liệu đã sẵn sàng[/green] {counts}")


@user_app.command("create")
def user_create(
    username: str = typer.Option(..., "--username"),
    role: str = typer.Option(
        ..., "--role", help="admin, supervisor, operator, unit_officer, doctor"
    ),
    password: str = typer.Option(..., "--password"),
    unit: str | None = typer.Option(
        None, "--unit", help="Unit code, for unit officers and doctors"
    ),
    full_name: str = typer.Option("", "--full-name"),
) -> None:
    """Create a staff account (on the audit trail, by the administrator of this machine)."""
    from hotline.auth.accounts import create_account
    from hotline.auth.service import SYSTEM
    from hotline.directory.service import get_unit_by_code
    from hotline.errors import DomainError

    async def work(session: Any) -> int:
        unit_id = (await get_unit_by_code(session, unit)).id if unit else None
        user = await create_account(
            session,
            actor=SYSTEM,
            username=username,
            password=password,
            role=role,
            unit_id=unit_id,
            full_name=full_name,
        )
        return user.id

    try:
        user_id = _run_in_uow(_settings(), work)
    except DomainError as exc:
        console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(f"Đã tạo tài khoản {username} (id {user_id})")


def _account_command(username: str, change: Callable[[Any, Any, int], Awaitable[T]]) -> T:
    """Run an account change as the administrator of this machine, or exit 2 with the reason.

    Web processes keep recently checked tokens for up to 10 s (TokenCache): a token revoked
    here may still work that long there.
    """
    from hotline.auth.service import SYSTEM, get_user_by_username
    from hotline.errors import DomainError

    async def work(session: Any) -> T:
        user = await get_user_by_username(session, username)
        return await change(session, SYSTEM, user.id)

    try:
        return _run_in_uow(_settings(), work)
    except DomainError as exc:
        console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
        raise typer.Exit(2) from None


@user_app.command("disable")
def user_disable(username: str = typer.Option(..., "--username")) -> None:
    """Disable an account: it cannot sign in, and its tokens and sessions end."""
    from hotline.auth.accounts import set_active

    _account_command(
        username, lambda s, actor, uid: set_active(s, actor=actor, user_id=uid, active=False)
    )
    console.print(f"Đã khoá tài khoản {username}")


@user_app.command("enable")
def user_enable(username: str = typer.Option(..., "--username")) -> None:
    """Enable a disabled account again (it signs in anew)."""
    from hotline.auth.accounts import set_active

    _account_command(
        username, lambda s, actor, uid: set_active(s, actor=actor, user_id=uid, active=True)
    )
    console.print(f"Đã mở lại tài khoản {username}")


@user_app.command("revoke")
def user_revoke(username: str = typer.Option(..., "--username")) -> None:
    """End every bearer token and page session of an account (it stays open)."""
    from hotline.auth.accounts import revoke_user

    done = _account_command(
        username, lambda s, actor, uid: revoke_user(s, actor=actor, user_id=uid)
    )
    console.print(
        f"Đã thu hồi {done.tokens} mã truy cập và {done.sessions} phiên đăng nhập của {username}"
    )


@user_app.command("password")
def user_password(
    username: str = typer.Option(..., "--username"),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True
    ),
) -> None:
    """Set an account's password; its tokens and sessions end."""
    from hotline.auth.accounts import set_password

    _account_command(
        username,
        lambda s, actor, uid: set_password(s, actor=actor, user_id=uid, new_password=password),
    )
    console.print(f"Đã đặt mật khẩu mới cho {username}")


@user_app.command("sip-password")
def user_sip_password(
    username: str = typer.Option(..., "--username", help="The staff account"),
    sip_username: str = typer.Option(..., "--sip-username", help="What the phone logs in as"),
    password: str = typer.Option(..., "--password", help="The phone's SIP password"),
    uri: str | None = typer.Option(None, "--uri", help="A fixed SIP URI if it never registers"),
) -> None:
    """Set the SIP login of an operator's phone (stored as the digest HA1, not the password)."""
    from sqlalchemy import select

    from hotline.agents.service import set_sip_credentials
    from hotline.auth.models import User
    from hotline.auth.service import SYSTEM
    from hotline.errors import DomainError, NotFound

    settings = _settings()

    async def work(session: Any) -> int:
        user_id = await session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            raise NotFound("Không tìm thấy người dùng", field="username")
        await set_sip_credentials(
            session,
            actor=SYSTEM,
            user_id=user_id,
            username=sip_username,
            password=password,
            realm=settings.sip_realm,
            uri=uri,
        )
        return int(user_id)

    try:
        _run_in_uow(settings, work)
    except DomainError as exc:
        console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(f"Đã đặt tài khoản SIP {sip_username} cho {username}")


@triage_app.command("train")
def triage_train(
    history: bool = typer.Option(
        True, "--history/--no-history", help="Also learn from cases staff confirmed"
    ),
) -> None:
    """Train a new model version; metrics are measured on the corpus's held-out split."""
    from hotline.cases.training import history_examples
    from hotline.triage.service import train_model

    async def train(session: Any) -> Any:
        examples = await history_examples(session) if history else []
        return await train_model(session, history=examples)

    row = _run_in_uow(_settings(), train)
    m = row.metrics
    console.print(
        f"Phiên bản {row.version}{' (đang dùng)' if row.active else ''}: "
        f"học từ {row.trained_on}; macro-F1 {m['macro_f1']:.3f}, "
        f"recall khẩn cấp {m['urgent']['recall']:.3f}, "
        f"precision khẩn cấp {m['urgent']['precision']:.3f} trên {m['n']} tin giữ lại"
    )
    if not row.active:
        console.print(f"Chọn dùng phiên bản này: hotline triage activate {row.version}")


@triage_app.command("activate")
def triage_activate(version: int = typer.Argument(...)) -> None:
    """Make a model version the active one (as the administrator of this machine)."""
    from hotline.errors import DomainError
    from hotline.triage.service import activate_model

    try:
        _run_in_uow(
            _settings(), lambda s: activate_model(s, actor=_system_actor(), version=version)
        )
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    console.print(f"Đang dùng phiên bản {version}")


@triage_app.command("models")
def triage_models() -> None:
    """The stored model versions with their held-out metrics, as JSON lines."""
    from hotline.triage.service import list_models

    async def work(session: Any) -> list[dict[str, Any]]:
        rows = await list_models(session, actor=_system_actor())
        return [
            {
                "version": r.version,
                "active": r.active,
                "created_at": r.created_at.isoformat(),
                "trained_on": r.trained_on,
                "macro_f1": r.metrics.get("macro_f1"),
                "urgent": r.metrics.get("urgent"),
            }
            for r in rows
        ]

    for row in _run_in_uow(_settings(), work):
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")


@triage_app.command("classify")
def triage_classify() -> None:
    """One text per line on stdin -> one JSON object per line on stdout (same order)."""
    from hotline.errors import DomainError
    from hotline.triage import service

    async def load(session: Any) -> Any:
        from hotline.directory.service import list_categories

        version, model = await service.active_model(session)
        names = {c.code: c.name_vi for c in await list_categories(session)}
        return version, model, names

    try:
        version, model, names = _run_in_uow(_settings(), load)
    except Exception as exc:
        console.print(
            f"[yellow]Không đọc được mô hình đã lưu ({exc.__class__.__name__}): "
            "dùng mô hình học từ kho dữ liệu đi kèm[/yellow]"
        )
        from hotline.directory.defaults import DEFAULT_CATEGORIES

        names = {code: name_vi for code, name_vi, *_ in DEFAULT_CATEGORIES}
        version, model = None, service.corpus_model()
    allowed = set(names) or None
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        try:
            s = service.suggest(model, text, version=version, allowed=allowed, names=names)
        except DomainError as exc:
            out: dict[str, Any] = {
                "text": text,
                "category": None,
                "confidence": 0.0,
                "urgent": False,
                "reasons": [],
                "error": exc.detail,
            }
        else:
            out = {
                "text": text,
                "category": s.category,
                "category_name": s.category_name,
                "confidence": s.confidence,
                "urgent": s.urgent,
                "reasons": s.reasons,
                "model_version": s.model_version,
            }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        if not _more_input_waiting():
            sys.stdout.flush()
    sys.stdout.flush()


def _more_input_waiting() -> bool:
    """Whether stdin already holds the next line. A caller feeding one message at a time
    (a chat gateway) gets each answer at once; a batch from a file or a fast pipe is written
    in blocks instead of a write per line (which halved the throughput)."""
    import select

    try:
        ready, _, _ = select.select([sys.stdin], [], [], 0)
    except (OSError, ValueError, TypeError, io.UnsupportedOperation):
        return False  # no file descriptor (e.g. a test runner's stream): flush every line
    return bool(ready)


@kb_app.command("import")
def kb_import(
    file: Path = typer.Argument(..., help=".csv or .json; columns: slug, question, answer, ..."),
) -> None:
    """Load articles from a file; loading it again changes nothing (matched by slug)."""
    from hotline.errors import DomainError
    from hotline.knowledge.importer import import_articles, read_file

    try:
        rows = read_file(file)
        result = _run_in_uow(
            _settings(),
            lambda s: import_articles(s, actor=_system_actor(), rows=rows),
        )
    except DomainError as exc:
        console.print(f"[red]Lỗi ({exc.field or 'input'}):[/red] {exc.detail}")
        raise typer.Exit(2) from None
    console.print(
        f"Đã nhập {len(rows)} bài: {result.created} mới, {result.updated} cập nhật,"
        f" {result.unchanged} không đổi, {result.published} xuất bản"
    )


def _system_actor() -> Any:
    """The CLI runs as the machine's administrator."""
    from hotline.auth.service import SYSTEM

    return SYSTEM


@app.command()
def report(
    date_from: str = typer.Option(..., "--from", help="YYYY-MM-DD, inclusive"),
    date_to: str = typer.Option(..., "--to", help="YYYY-MM-DD, inclusive"),
    fmt: str = typer.Option("table", "--format", help="table, json, csv or xlsx"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="File to write (xlsx needs one)"
    ),
) -> None:
    """The summary report over local dates in the site's timezone."""
    from hotline.errors import DomainError
    from hotline.reports import export
    from hotline.reports.service import summary

    try:
        start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError:
        console.print("[red]Ngày phải có dạng YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None
    if fmt not in ("table", "json", "csv", "xlsx"):
        console.print("[red]--format phải là table, json, csv hoặc xlsx[/red]")
        raise typer.Exit(2)
    if fmt == "xlsx" and output is None:
        console.print("[red]--format xlsx cần --output TỆP.xlsx[/red]")
        raise typer.Exit(2)
    try:
        data = _run_in_uow(_settings(), lambda s: summary(s, date_from=start, date_to=end))
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from None
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2)
    elif fmt == "csv":
        text = export.to_csv(data)
    elif fmt == "xlsx":
        assert output is not None
        export.to_xlsx(data, output)
        console.print(f"Đã ghi {output}")
        return
    else:
        export.print_table(data, Console())
        return
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def demo(
    profile: str = typer.Option(
        "recent", "--profile", help="binh-duong-2021, ha-noi-2021 or recent"
    ),
    seed: int = typer.Option(1022, "--seed"),
) -> None:
    """Load realistic demo cases and calls for a profile."""
    from hotline.demo.load import load_profile

    settings = _settings()
    load_profile(settings, profile, seed=seed, console=console)


@app.command()
def serve(
    host: str | None = typer.Option(None, "--host"),
    port: int | None = typer.Option(None, "--port"),
    workers: int = typer.Option(1, "--workers"),
) -> None:
    """Serve the web app and API."""
    import uvicorn

    settings = _settings()
    _logging(settings)
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


@app.command()
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

    settings = _settings()
    _logging(settings)
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
    try:
        _run_on_uvloop(
            run_worker(settings, once=once, sweeps=sweeps(settings), jobs_only=jobs_only)
        )
    finally:
        for helper in helpers:
            helper.terminate()
        for helper in helpers:
            helper.wait(timeout=15)


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


@app.command()
def sip(
    host: str | None = typer.Option(None, "--host", help="Address to listen on (UDP)"),
    port: int | None = typer.Option(None, "--port", help="SIP port (default 5080)"),
) -> None:
    """Run the phone line alone: SIP user agent, voice menu, call records."""
    from hotline.telephony.server import serve as serve_sip

    settings = _settings()
    _logging(settings)
    if host:
        settings.sip_host = host
    if port:
        settings.sip_port = port
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_sip(settings))


@app.command()
def run() -> None:
    """Everything on one machine: migrate, load demo data if empty, worker, web."""
    import subprocess

    from hotline.demo.load import DEMO_USERS, is_empty, load_profile, refresh_roster

    settings = _settings()
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


def main() -> None:
    app()


# Last, after every command is defined: `python -m hotline.cli` runs the app at this line.
if __name__ == "__main__":
    main()
