"""The `hotline` command. Thin: each command delegates to a service.

One module per command family; this one puts them together in the order `--help` lists them.
"""

from __future__ import annotations

import typer

from hotline.cli.knowledge import kb_app
from hotline.cli.programs import demo, migrate, run, serve, sip, worker
from hotline.cli.reports import report
from hotline.cli.service_accounts import service_app
from hotline.cli.staffing import staffing_app
from hotline.cli.triage import triage_app
from hotline.cli.users import user_app

app = typer.Typer(
    help="Hotline 1022: tổng đài tiếp nhận và xử lý phản ánh của người dân.", no_args_is_help=True
)
for command in (migrate, report, demo, serve, worker, sip, run):
    app.command()(command)
app.add_typer(user_app, name="user")
app.add_typer(triage_app, name="triage")
app.add_typer(kb_app, name="kb")
app.add_typer(staffing_app, name="staffing")
app.add_typer(service_app, name="service-account")


def main() -> None:
    app()
