"""The `notoneless` command: the app's CLI (Flask's, with the app's configuration loaded)."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from server import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app())
def main():
    """Not One Less (一个都不少): manage the campaign server."""


@main.command()
def keys():
    """Print a fresh set of secret keys in environment-file form."""
    import secrets

    from server.people.protection import new_key

    click.echo(f"SECRET_KEY={secrets.token_urlsafe(32)}")
    click.echo(f"ID_NUMBER_KEY={new_key()}")
    click.echo(f"ID_LOOKUP_KEY={new_key()}")


@main.command()
@click.option("--queue", "queues", multiple=True, help="queues to serve (default: all)")
@click.option("--burst", is_flag=True, help="stop when the queues are empty")
@with_appcontext
def worker(queues, burst):
    """Run an RQ worker inside the app's configuration, with the job outbox's sweep."""
    from server import jobs
    from server.jobs import worker as job_worker

    job_worker.run(current_app._get_current_object(), queues or jobs.QUEUES, burst=burst)


@main.group("jobs")
def jobs_commands():
    """The job outbox: what waits, and delivering what Redis lost."""


@jobs_commands.command("sweep")
@with_appcontext
def jobs_sweep():
    """Deliver outbox jobs that Redis never got or whose worker died (workers do this too)."""
    from server.jobs import outbox

    click.echo(outbox.sweep(current_app._get_current_object()))


@jobs_commands.command("pending")
@with_appcontext
def jobs_pending():
    """List the jobs asked for and not finished yet."""
    from server.jobs import queries

    with current_app.extensions["notoneless.db"].sessionmaker() as session:
        for row in queries.all_rows(session):
            click.echo(f"{row.id}\t{row.queue}\t{row.function}{tuple(row.args)}\tattempts={row.attempts}"
                       f"\tcreated={row.created_at:%Y-%m-%d %H:%M:%S}")


@main.command()
@click.option("--write", "path", type=click.Path(dir_okay=False), default=None,
              help="write to this file instead of printing (mobile_contract/openapi.json)")
@with_appcontext
def openapi(path):
    """Print the OpenAPI document the app serves."""
    import json

    text = json.dumps(current_app.extensions["notoneless.api"].spec.to_dict(), ensure_ascii=False, indent=2,
                      sort_keys=True) + "\n"
    if path:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        click.echo(text, nl=False)


@main.group()
def forms():
    """Survey forms."""


@forms.command("publish-builtin")
@with_appcontext
def forms_publish_builtin():
    """Publish the built-in forms (idempotent) and use them in the active campaign."""
    from server.db import database
    from server.forms import service

    with database().sessionmaker() as session:
        rows = service.publish_builtin(session)
        session.commit()
        for row in rows:
            click.echo(f"{row.form_id} {row.version} sha256:{row.sha256[:12]}…")


@main.group()
def tasks():
    """Visit lists (tasks delivered to tablets)."""


@tasks.command("generate")
@click.option("--town", "towns", multiple=True, help="town codes (default: every town)")
@with_appcontext
def tasks_generate(towns):
    """Build every team's visit list (safe to run again: tasks are upserted)."""
    from server.accounts.scope import Scope
    from server.db import database
    from server.maps.jobs import regenerate_town_tasks
    from server.places import queries as places

    if not towns:
        with database().sessionmaker() as session:
            # every town with villages (one with none has no teams)
            towns = [row.code for row in places.towns(session, Scope(True))]
    total = 0
    for code in towns:
        counts = regenerate_town_tasks(code)
        total += sum(counts.values())
        click.echo(f"{code}: {len(counts)} teams, {sum(counts.values())} households to visit")
    click.echo(f"{total} tasks in all")


@main.group()
def devices():
    """Tablets."""


@devices.command("issue-code")
@click.option("--surveyor", required=True, help="username of the surveyor or team leader the tablet is for")
@click.option("--by", "issuer", required=True, help="username of the supervisor issuing it")
@click.option("--hours", type=int, default=24, show_default=True)
@with_appcontext
def devices_issue_code(surveyor, issuer, hours):
    """Issue a one-time enrollment code for a tablet (prints the code)."""
    import datetime as dt

    from server.accounts import queries as accounts
    from server.accounts.scope import scope_of
    from server.db import database
    from server.devices import service
    from server.errors import DomainError

    with database().sessionmaker() as session:
        people = accounts.people_by_username(session, [surveyor, issuer])
        if surveyor not in people or issuer not in people:
            raise click.ClickException("unknown username")
        try:
            code, row = service.issue_code(session, people[issuer], scope_of(session, people[issuer]),
                                           people[surveyor].id, dt.timedelta(hours=hours))
        except DomainError as exc:
            raise click.ClickException(exc.errors[0].message if exc.errors else exc.message) from exc
        session.commit()
        click.echo(f"{code} (for {people[surveyor].full_name}, expires {row.expires_at:%Y-%m-%d %H:%M %Z})")


@devices.command("collect")
@click.option("--surveyor", required=True, help="username of the surveyor or team leader the tablet is for")
@click.option("--by", "issuer", required=True, help="username of the supervisor enrolling it")
@click.option("--server", "server", required=True, help="the address tablets reach, e.g. https://kbxx.example.cn")
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False), help="write Collect's settings QR (PNG) here")
@click.option("--name", "device_name", default="ODK Collect", show_default=True)
@with_appcontext
def devices_collect(surveyor, issuer, server, qr_path, device_name):
    """Enroll an ODK Collect tablet: prints its server URL (the QR holds it too)."""
    import datetime as dt

    from flask import current_app

    from server.accounts import queries as accounts
    from server.accounts.scope import scope_of
    from server.db import database
    from server.devices import service
    from server.errors import DomainError
    from server.openrosa.service import collect_qr

    with database().sessionmaker() as session:
        people = accounts.people_by_username(session, [surveyor, issuer])
        if surveyor not in people or issuer not in people:
            raise click.ClickException("unknown username")
        try:
            device, token = service.enroll_collect(
                session, people[issuer], scope_of(session, people[issuer]), people[surveyor].id, device_name,
                dt.timedelta(days=current_app.config["COLLECT_TOKEN_DAYS"]))
        except DomainError as exc:
            raise click.ClickException(exc.errors[0].message if exc.errors else exc.message) from exc
        session.commit()
        url = f"{server.rstrip('/')}/api/v1/openrosa/{token}"
        _settings, png = collect_qr(url, people[surveyor].full_name)
        if qr_path:
            with open(qr_path, "wb") as out:
                out.write(png)
        click.echo(url)


@main.group()
def demo():
    """The demo county."""


@demo.command("load")
@click.option("--size", type=click.Choice(["full", "medium", "small", "tiny"]), default="full")
@click.option("--seed", type=int, default=20260521, show_default=True)
@click.option("--school-year", type=int, default=2026, show_default=True)
@click.option("--password", default="demo-password", show_default=True, help="password of every demo account")
@click.option("--replace", is_flag=True, help="wipe the places, people and accounts already loaded")
@click.option("--no-children", is_flag=True,
              help="load places, households and accounts only; children come from `notoneless import roster`")
@with_appcontext
def demo_load(size, seed, school_year, password, replace, no_children):
    """Generate the demo county and load it."""
    from server.db import database
    from server.demo import generator, loader

    started = time.monotonic()
    county = generator.generate(size, seed=seed, school_year=school_year)
    generated = time.monotonic()
    db = database()
    with db.sessionmaker() as session:
        try:
            counts = loader.load(session, county, current_app.extensions["notoneless.vault"], password,
                                 replace=replace, with_children=not no_children)
        except loader.NotEmptyError as exc:
            raise click.ClickException(str(exc)) from exc
        # The built-in forms, for the demo campaign's tablets (a reload wipes them with the people).
        from server.forms import service as forms_service

        forms_service.publish_builtin(session)
        session.commit()
    done = time.monotonic()
    click.echo(", ".join(f"{v} {k}" for k, v in counts.items()))
    click.echo(f"generated in {generated - started:.1f} s, loaded in {done - generated:.1f} s")


@demo.command("field-week")
@click.option("--size", type=click.Choice(["full", "medium", "small", "tiny"]), default="full")
@click.option("--seed", type=int, default=20260521, show_default=True)
@click.option("--school-year", type=int, default=2026, show_default=True)
@with_appcontext
def demo_field_week(size, seed, school_year):
    """Play the field week on the loaded demo county (after its roster and registers are imported):
    tablets' surveys with GPS points, disabled children, cases with visits and steps, and
    conflicts and duplicate pairs waiting in the first town. The same size and seed as `demo load`."""
    from server.db import database
    from server.demo import field_week, generator

    started = time.monotonic()
    county = generator.generate(size, seed=seed, school_year=school_year)
    with database().sessionmaker() as session:
        try:
            result = field_week.play(session, county, current_app.extensions["notoneless.vault"])
        except field_week.AlreadyPlayed as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    click.echo(", ".join(f"{v} {k}" for k, v in result.items()))
    click.echo(f"played in {time.monotonic() - started:.1f} s")


@demo.command("write-files")
@click.option("--size", type=click.Choice(["full", "medium", "small", "tiny"]), default="full")
@click.option("--seed", type=int, default=20260521, show_default=True)
@click.option("--school-year", type=int, default=2026, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="var/demo", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "gb18030", "xlsx", "all"]), default="csv",
              help="csv is UTF-8 with BOM; gb18030 is a CSV as Excel on Chinese Windows saves it")
@click.option("--later-register", is_flag=True,
              help="also write the register a month later (a few students gone or not received)")
def demo_write_files(size, seed, school_year, out, fmt, later_register):
    """Write the police roster and the school register of the demo county."""
    from pathlib import Path

    from server.demo import files, generator

    county = generator.generate(size, seed=seed, school_year=school_year)
    for one in (["csv", "gb18030", "xlsx"] if fmt == "all" else [fmt]):
        for path in files.write_all(county, Path(out), one):
            click.echo(path)
        if later_register:
            click.echo(files.write_later_register(county, Path(out), one))


@main.group("import")
def import_group():
    """Import the police roster or the school register (CSV or XLSX)."""


def _import_command(kind: str):
    @import_group.command(kind)
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="the day the export reflects (default: today)")
    @click.option("--now", is_flag=True, help="run the job in this process instead of on a worker")
    @with_appcontext
    def command(path, as_of, now, corrections=False):
        from server.imports import cli as imports_cli

        imports_cli.run(kind, path, as_of.date() if as_of else None, now,
                        "corrections" if corrections else "full")

    if kind == "roster":
        command = click.option(
            "--corrections", is_flag=True,
            help="the file holds only rows to add or fix: no child is flagged missing from the roster",
        )(command)

    command.__doc__ = f"Import the {'police roster' if kind == 'roster' else 'school register'} at PATH."
    return command


import_roster = _import_command("roster")
import_register = _import_command("register")

from server.cases.cli import cases as cases_commands  # noqa: E402 - the group lives with its domain

main.add_command(cases_commands)


if __name__ == "__main__":
    main()
