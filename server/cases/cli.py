"""`notoneless cases open-all [--demo-field-results]`."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from server.accounts.scope import Scope
from server.db import database


@click.group("cases")
def cases():
    """Out-of-school cases."""


@cases.command("open-all")
@click.option("--demo-field-results", is_flag=True,
              help="demo only: confirm a third of the suspected children as the field would, then open")
@with_appcontext
def open_all(demo_field_results):
    """Open a case for every confirmed out-of-school child without one (safe to run again)."""
    from server.cases import demo, service

    with database().sessionmaker() as session:
        if demo_field_results:
            result = demo.field_results(session, dt.date.today())
        else:
            result = {"cases_opened": service.open_cases(session, Scope(True), None)["opened"]}
        session.commit()
    click.echo(", ".join(f"{v} {k}" for k, v in result.items()))
