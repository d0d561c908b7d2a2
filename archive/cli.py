"""``flask --app archive …`` commands: thin wrappers over operations, one commit each."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from archive import demo, migrate
from archive.db import commit, db, rollback
from archive.models import Account, ApiToken, Circle
from archive.operations import Refused
from archive.operations import accounts as account_ops
from archive.operations import circles as circle_ops
from archive.text import key

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar


def committing(command):
    """Run an operation-calling command as one unit of work; refusals become clean errors."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        # no request to choose a language from: refusals are told in English
        with force_locale("en"):
            try:
                result = command(*args, **kwargs)
            except Refused as refused:
                rollback()
                raise click.ClickException(str(refused.message)) from None
            except BaseException:
                rollback()
                raise
        commit()
        return result

    return wrapped


def _account(username: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.username_key == key(username)))
    if account is None:
        raise click.ClickException(f"no account named {username!r}")
    return account


def _circle(slug: str) -> Circle:
    circle = db.session.scalar(select(Circle).where(Circle.slug == slug))
    if circle is None:
        raise click.ClickException(f"no circle {slug!r}")
    return circle


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


db_cli = AppGroup("db", help="The database schema.")
circles_cli = AppGroup("circles", help="Circles: the communities that share here.")
users_cli = AppGroup("users", help="Accounts.")
tokens_cli = AppGroup("tokens", help="API tokens for the JSON API.")
demo_cli = AppGroup("demo", help="Demo data from collections/demo.")
items_cli = AppGroup("items", help="Items: withdrawal on request.")
search_cli = AppGroup("search", help="The search index (rebuilt from the database).")
collections_cli = AppGroup("collections", help="Collections: offline packs to share.")


@search_cli.command("reindex")
@click.option("--procs", default=1, show_default=True, help="Writer processes for bulk.")
def search_reindex(procs: int) -> None:
    """Rebuild the whole index from the database, then swap it in."""
    from sqlalchemy import func

    from archive.models import Item
    from archive.search import rebuild

    total = (
        db.session.scalar(select(func.count()).select_from(Item).where(Item.state == "active")) or 0
    )
    bar: ProgressBar[int]
    with click.progressbar(length=total, label="indexing") as bar:
        count = rebuild.reindex(progress=bar.update, procs=procs)
    click.echo(f"indexed {count} items")


@search_cli.command("check")
def search_check() -> None:
    """Report where the database and the index disagree (exit 1 if they do)."""
    from archive.search import rebuild, sync

    sync.catch_up()
    report = rebuild.check()
    click.echo(
        f"missing from the index: {len(report['missing'])}; "
        f"in the index but not active in the database: {len(report['extra'])}"
    )
    for name in ("missing", "extra"):
        for public_id in report[name][:20]:
            click.echo(f"  {name}: {public_id}")
    if report["missing"] or report["extra"]:
        raise SystemExit(1)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(revision)
    click.echo("database is at " + ", ".join(sorted(migrate.current_heads())))


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    migrate.revision(message)


@circles_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The circle's name as people see it.")
@click.option("--languages", default="en", help="Space-separated: en hi mr other.")
@click.option("--description", default="")
@committing
def circles_create(slug: str, name: str, languages: str, description: str) -> None:
    """Create the circle SLUG."""
    circle = circle_ops.create_circle(slug, name, description, languages)
    click.echo(f"created circle {circle.slug}")


@users_cli.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["participant", "facilitator", "admin"]),
    default="participant",
    show_default=True,
)
@click.option("--circle", "circle_slug", help="Add the account to this circle.")
@click.option("--display-name", default="")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from one line of standard input instead of asking.",
)
@committing
def users_create(
    username: str, role: str, circle_slug: str | None, display_name: str, password_stdin: bool
) -> None:
    """Create the account USERNAME (no email needed)."""
    circle = _circle(circle_slug) if circle_slug else None
    account = account_ops.create_account(
        username, _read_password(password_stdin), role, display_name
    )
    if circle is not None:
        circle_role = "facilitator" if role == "facilitator" else "participant"
        circle_ops.add_member(circle, account, circle_role)
    click.echo(
        f"created {role} {account.username}" + (f" in {circle.slug}" if circle is not None else "")
    )


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@committing
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME; every session and API token they had ends."""
    stopped = account_ops.set_password(_account(username), _read_password(password_stdin))
    click.echo(
        f"password changed; their sessions have ended and {stopped} API "
        f"token{'' if stopped == 1 else 's'} stopped"
    )


@tokens_cli.command("create")
@click.argument("username")
@click.option("--label", default="")
@committing
def tokens_create(username: str, label: str) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is kept)."""
    click.echo(account_ops.create_token(_account(username), label))


@tokens_cli.command("list")
@click.argument("username")
def tokens_list(username: str) -> None:
    """List USERNAME's tokens that still work."""
    account = _account(username)
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
    ):
        used = token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "-"
        click.echo(f"{token.id}\t{token.created_at:%Y-%m-%d}\tlast used {used}\t{token.label}")


@tokens_cli.command("revoke")
@click.argument("username")
@click.argument("token_id", type=int)
@committing
def tokens_revoke(username: str, token_id: int) -> None:
    """Stop USERNAME's token TOKEN_ID from working."""
    account_ops.revoke_token(_account(username), token_id)
    click.echo("revoked")


def on_request(command):
    """The options of a command acting on a piece at its contributor's request."""
    command = click.option(
        "--reason",
        type=click.Choice(["in-person", "phone-or-message", "in-writing"]),
        help="How the contributor asked (needed when a facilitator acts).",
    )(command)
    command = click.option(
        "--by",
        "username",
        required=True,
        help="The facilitator acting on the contributor's request (or the contributor).",
    )(command)
    return click.argument("public_id")(command)


def _item_for(account: Account, public_id: str, proposals: bool = False):
    """The piece as ``access.item_for`` finds it for ``account``, or a clean error."""
    from archive.access import Unavailable, item_for

    try:
        return item_for(account, public_id, proposals=proposals)
    except Unavailable as unavailable:
        if unavailable.status == 410:
            raise click.ClickException(
                f"{public_id} was already withdrawn: nothing of it is left"
            ) from None
        raise click.ClickException("no such item that this account may act on") from None


@items_cli.command("withdraw")
@on_request
@committing
def items_withdraw(public_id: str, username: str, reason: str | None) -> None:
    """Erase the item PUBLIC_ID everywhere, on its contributor's request."""
    from archive.operations.withdraw import erase

    account = _account(username)
    erase(_item_for(account, public_id, proposals=True), account, reason)
    click.echo(f"withdrawn: {public_id}")


@items_cli.command("narrow")
@on_request
@click.option(
    "--audience", type=click.Choice(["circle", "private"]), help="Fewer people may see it."
)
@click.option("--anonymous", is_flag=True, help="Show no name at all.")
@click.option("--no-collections", is_flag=True, help="Take it out of collections.")
@click.option("--no-embeds", is_flag=True, help="No quoting or showing on other websites.")
@click.option("--no-packs", is_flag=True, help="Keep it out of offline packs.")
@click.option(
    "--review-by",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Ask again (and keep it private until then) on an earlier date.",
)
@click.option("--note", "notes", multiple=True, help="Add a content note (repeatable).")
@committing
def items_narrow(
    public_id: str,
    username: str,
    reason: str | None,
    audience: str | None,
    anonymous: bool,
    no_collections: bool,
    no_embeds: bool,
    no_packs: bool,
    review_by,
    notes: tuple[str, ...],
) -> None:
    """Narrow the consent of PUBLIC_ID on its contributor's request. The command line only
    ever narrows; opening a piece up is its contributor's alone, on the site."""
    from archive.operations import consent as consent_ops

    account = _account(username)
    item = _item_for(account, public_id)
    choice = consent_ops.current_choice(item.consent)
    choice.audience = audience or choice.audience
    if anonymous:
        choice.attribution, choice.pseudonym = "anonymous", ""
    choice.collections &= not no_collections
    choice.embeds &= not no_embeds
    choice.packs &= not no_packs
    if review_by is not None:
        choice.review_by = review_by.date()
    choice.content_notes = [*choice.content_notes, *notes]
    wider = consent_ops.widenings(item.consent, choice)
    if wider:
        raise click.ClickException(
            f"that would widen {', '.join(wider)}: the command line only narrows"
        )
    changed = consent_ops.change(item, choice, account, reason=reason)
    click.echo(f"narrowed: {public_id} ({', '.join(sorted(set(changed) - {'reason'}))})")


@collections_cli.command("export")
@click.argument("slug")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the zip (default: collections/packs in this checkout, or "
    "under <prefix>/var/living-archive when installed).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "hi", "mr"]),
    default="en",
    show_default=True,
    help="Language of the pack's own words.",
)
def collections_export(slug: str, out: Path | None, lang: str) -> None:
    """Write the offline pack of the public collection SLUG as OUT/SLUG.zip: only pieces whose
    authors agreed to packs, as of today."""
    from archive import packs
    from archive.config import HOME
    from archive.models import Collection

    collection = db.session.scalar(select(Collection).where(Collection.slug == slug))
    if collection is None or collection.state != "public":
        raise click.ClickException(
            f"no public collection {slug!r}: only public collections have offline packs"
        )
    with force_locale(lang):
        target = packs.write_pack(collection, out or HOME / "collections" / "packs")
        count = len(packs.pack_entries(collection))
    click.echo(f"wrote {target}: {count} pieces")


@click.command("purge")
def purge_command() -> None:
    """Finish every pending purge (files, index entries, packs), copy ledger lines still
    waiting to the ledger file, and compact what holds erased text."""
    from archive import ledger_file, purge

    ledger_file.write_pending()
    done, failed = purge.run_pending(limit=100_000)
    for name, compact in purge.COMPACTORS.items():
        click.echo(f"compacted {name}: {compact()}")
    click.echo(f"purges done: {done}, still failing: {failed}")
    if failed:
        raise SystemExit(1)


@click.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
def backup_command(destination: Path) -> None:
    """Copy the database (online), media and consent ledger into the new folder DESTINATION."""
    from archive.backup import BackupError, backup

    try:
        manifest = backup(destination)
    except (BackupError, FileExistsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"backup written to {destination}: {manifest['items']} items, "
        f"{manifest['ledger_events']} ledger events"
    )


@click.command("restore")
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the current site.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace this site's database and media with the backup in SOURCE, then replay every
    later withdrawal and consent change from the ledger."""
    from archive.backup import BackupError, restore

    if not yes:
        click.confirm("This replaces the current database and media. Go on?", abort=True)
    try:
        with force_locale("en"):  # a refused replay step is told in English, not a crash
            result = restore(source)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored from {source}; replayed {result['replayed']} later consent events")


@demo_cli.command("load")
@committing
def demo_load() -> None:
    """Load the demo circles, accounts and items once (never twice)."""
    loaded = demo.load()
    click.echo("demo data loaded" if loaded else "demo data was already loaded")


@click.command("setup")
@click.option(
    "--demo/--no-demo",
    "with_demo",
    default=None,
    help="Load demo data on first run (default: ARCHIVE_DEMO).",
)
def setup(with_demo: bool | None) -> None:
    """Make this instance ready to serve: migrations, and demo data on the first run."""
    from flask import current_app

    from archive import ledger_file, purge
    from archive.search import rebuild

    migrate.upgrade()
    reason = rebuild.needs_rebuild()
    if reason:
        click.echo(f"rebuilding the search index: {reason}")
        click.echo(f"indexed {rebuild.reindex()} items")
    if with_demo if with_demo is not None else current_app.config["DEMO"]:
        committing(demo.load)()
    ledger_file.write_pending()
    purge.run_pending()
    notice = demo.sign_ins_notice()
    if notice:
        click.echo(notice)


def init_app(app: Flask) -> None:
    for group in (
        db_cli,
        circles_cli,
        users_cli,
        tokens_cli,
        demo_cli,
        items_cli,
        search_cli,
        collections_cli,
    ):
        app.cli.add_command(group)
    for command in (setup, purge_command, backup_command, restore_command):
        app.cli.add_command(command)
