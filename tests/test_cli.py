"""`flask --app archive …` commands: thin over operations, one commit each, clean errors."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from archive import create_app, passwords
from archive.db import db
from archive.models import Account, ApiToken, Circle, Membership
from archive.operations import accounts as account_ops
from tests.conftest import PASSWORD, config_for_tests, sign_in


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _account(username) -> Account | None:
    db.session.expire_all()
    return db.session.scalar(select(Account).where(Account.username_key == username.lower()))


def test_create_a_circle(runner):
    result = runner.invoke(
        args=["circles", "create", "young-voices", "--name", "Young voices", "--languages", "hi en"]
    )
    assert result.exit_code == 0, result.output
    assert "created circle young-voices" in result.output
    circle = db.session.scalar(select(Circle))
    assert (circle.slug, circle.name, circle.languages) == ("young-voices", "Young voices", "hi en")


def test_a_bad_circle_is_refused_cleanly(runner, make_circle):
    make_circle("young-voices")
    for args in (
        ["circles", "create", "young-voices", "--name", "Again"],
        ["circles", "create", "Not OK", "--name", "Bad"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        assert "Error:" in result.output
        assert "Traceback" not in result.output
    assert _count(Circle) == 1


def test_create_a_facilitator_in_a_circle(runner, make_circle):
    circle = make_circle("young-voices")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Meera",
            "--role",
            "facilitator",
            "--circle",
            "young-voices",
            "--display-name",
            "Meera T",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.output
    assert "created facilitator Meera in young-voices" in result.output
    assert PASSWORD not in result.output
    meera = _account("meera")
    assert meera.role == "facilitator" and meera.display_name == "Meera T"
    assert passwords.verify_password(meera.password_hash, PASSWORD)
    membership = db.session.scalar(select(Membership).where(Membership.account_id == meera.id))
    assert membership.circle_id == circle.id and membership.role == "facilitator"


def test_created_account_can_sign_in(runner, client):
    runner.invoke(args=["users", "create", "rohan", "--password-stdin"], input=PASSWORD + "\n")
    sign_in(client, "rohan")
    assert client.get("/account").status_code == 200


def test_a_duplicate_user_is_refused(runner, make_account):
    make_account("Asha")
    result = runner.invoke(
        args=["users", "create", "asha", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert result.exit_code != 0
    assert "That username is taken" in result.output
    assert "Traceback" not in result.output
    assert _count(Account) == 1


def test_a_short_password_is_refused(runner):
    result = runner.invoke(args=["users", "create", "rohan", "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert _count(Account) == 0


def test_an_unknown_circle_stores_nothing(runner):
    result = runner.invoke(
        args=["users", "create", "rohan", "--circle", "nowhere", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code != 0
    assert "no circle 'nowhere'" in result.output
    assert _count(Account) == 0


def test_set_password_ends_sessions(runner, make_account, signed_in):
    account = make_account("rohan")
    client = signed_in(account)
    new = "another long password"
    result = runner.invoke(
        args=["users", "set-password", "rohan", "--password-stdin"], input=new + "\n"
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(account)
    assert passwords.verify_password(account.password_hash, new)
    assert client.get("/account").status_code == 302


def test_tokens_create_list_and_revoke(runner, make_account, tmp_path):
    account = make_account("rohan")

    created = runner.invoke(args=["tokens", "create", "rohan", "--label", "laptop"])

    assert created.exit_code == 0, created.output
    secret = created.output.strip()
    assert secret.startswith("la_") and len(secret) > 40
    found = account_ops.account_for_token(secret)
    assert found is not None and found.id == account.id
    db.session.commit()
    row = db.session.scalar(select(ApiToken))
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr([getattr(row, c.key) for c in ApiToken.__table__.columns])
    assert secret.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("test.sqlite3*"))

    listed = runner.invoke(args=["tokens", "list", "rohan"])
    assert listed.exit_code == 0
    assert listed.output.startswith(f"{row.id}\t") and "laptop" in listed.output
    assert secret not in listed.output

    revoked = runner.invoke(args=["tokens", "revoke", "rohan", str(row.id)])

    assert revoked.exit_code == 0, revoked.output
    db.session.expire_all()
    assert account_ops.account_for_token(secret) is None
    assert runner.invoke(args=["tokens", "list", "rohan"]).output == ""


def test_cannot_revoke_someone_elses_token(runner, make_account):
    owner = make_account("owner")
    make_account("rohan")
    secret = account_ops.create_token(owner)
    db.session.commit()
    token_id = db.session.scalar(select(ApiToken.id))

    result = runner.invoke(args=["tokens", "revoke", "rohan", str(token_id)])

    assert result.exit_code != 0
    assert "That token was not found." in result.output
    db.session.expire_all()
    assert account_ops.account_for_token(secret).id == owner.id


def test_tokens_for_an_unknown_account(runner):
    result = runner.invoke(args=["tokens", "create", "nobody"])
    assert result.exit_code != 0
    assert "no account named 'nobody'" in result.output
    assert _count(ApiToken) == 0


def test_demo_loads_once(runner, app):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "demo data loaded" in first.output
    accounts, circles = _count(Account), _count(Circle)
    assert accounts >= 2 and circles >= 1

    second = runner.invoke(args=["demo", "load"])

    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert (_count(Account), _count(Circle)) == (accounts, circles)
    sign_ins = Path(app.config["INSTANCE_DIR"]) / "demo-sign-ins.txt"
    assert stat.S_IMODE(sign_ins.stat().st_mode) == 0o600


def test_demo_passwords_work_and_differ_per_site(runner, app, client):
    runner.invoke(args=["demo", "load"])
    lines = (Path(app.config["INSTANCE_DIR"]) / "demo-sign-ins.txt").read_text().splitlines()
    username, password = lines[0].split()[:2]
    sign_in(client, username, password)
    assert client.get("/account").status_code == 200
    assert (
        password
        not in (
            Path(__file__).resolve().parent.parent / "collections" / "demo" / "site.toml"
        ).read_text()
    )


def test_setup_on_an_empty_database(tmp_path):
    app = create_app(config_for_tests(tmp_path, DEMO=True))
    runner = app.test_cli_runner()
    with app.app_context():
        assert sa.inspect(db.engine).get_table_names() == []

        first = runner.invoke(args=["setup"])

        assert first.exit_code == 0, first.output
        assert set(db.metadata.tables) <= set(sa.inspect(db.engine).get_table_names())
        accounts = _count(Account)
        assert accounts > 0
        assert "Demo sign-ins" in first.output

        second = runner.invoke(args=["setup"])

        assert second.exit_code == 0, second.output
        assert _count(Account) == accounts
        db.session.remove()


def test_setup_without_demo(tmp_path):
    app = create_app(config_for_tests(tmp_path, DEMO=False))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["setup"])
        assert result.exit_code == 0, result.output
        assert _count(Account) == 0
        db.session.remove()


def test_db_upgrade_command(tmp_path):
    app = create_app(config_for_tests(tmp_path))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "database is at" in result.output
        assert "account" in sa.inspect(db.engine).get_table_names()
        db.session.remove()
