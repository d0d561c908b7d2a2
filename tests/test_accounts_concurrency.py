"""Two people choosing the same username at the same moment: both pass the "is it taken?"
check, and the unique key decides. The one who comes second is told the name is taken,
as anyone choosing a taken name is, through every door that makes accounts; nothing of
their attempt is kept (an invite stays unused), and nobody sees an error page."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import passwords
from archive.db import commit, db, rollback
from archive.models import Account, Invite, Membership
from archive.operations import Refused
from archive.operations import accounts as ops
from archive.passwords import digest
from archive.text import key
from tests.conftest import PASSWORD

pytestmark = pytest.mark.both_databases

TAKEN = "That username is taken. Please choose another."


def _accounts(username: str) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).select_from(Account).where(Account.username_key == key(username))
    )


def _taken_after_the_check(monkeypatch, username: str) -> None:
    """Another request signs up as ``username`` and commits between this request's check
    and its insert."""
    real_check = ops.check_username

    def check_then_lose_the_race(name: str) -> str:
        checked = real_check(name)
        with Session(db.engine) as other:
            other.add(
                Account(
                    username=username,
                    username_key=key(username),
                    password_hash=passwords.hash_password(PASSWORD),
                )
            )
            other.commit()
        return checked

    monkeypatch.setattr(ops, "check_username", check_then_lose_the_race)


def test_two_sign_ups_with_one_name_at_the_same_moment(app, monkeypatch):
    real_check = ops.check_username
    both_checked = threading.Barrier(2, timeout=30)

    def check_together(name: str) -> str:
        checked = real_check(name)
        both_checked.wait()  # neither has inserted yet: both found the name free
        return checked

    monkeypatch.setattr(ops, "check_username", check_together)
    outcomes: list = []

    def sign_up(display_name: str) -> None:
        with app.test_request_context():
            try:
                ops.create_account("Asha", PASSWORD, display_name=display_name)
            except Refused as refused:
                # the transaction is still usable for the answer page
                db.session.scalar(select(func.count()).select_from(Account))
                outcomes.append(("refused", refused.field, str(refused.message), refused.status))
                rollback()
            else:
                outcomes.append(("created", display_name))
                commit()
            finally:
                db.session.remove()

    people = [threading.Thread(target=sign_up, args=(name,)) for name in ("first", "second")]
    for person in people:
        person.start()
    for person in people:
        person.join(timeout=60)
        assert not person.is_alive(), "a sign-up never finished"

    created = [outcome for outcome in outcomes if outcome[0] == "created"]
    refused = [outcome for outcome in outcomes if outcome[0] == "refused"]
    assert len(created) == 1 and refused == [("refused", "username", TAKEN, 422)]
    assert _accounts("asha") == 1
    survivor = db.session.scalar(select(Account).where(Account.username_key == "asha"))
    assert survivor.display_name == created[0][1]


def test_a_name_taken_meanwhile_gives_the_join_form_back(
    app, client, make_circle, make_account, monkeypatch
):
    circle = make_circle("caregivers-pune", "Caregivers' circle")
    facilitator = make_account("meera", role="facilitator", circle=circle)
    token = ops.create_invite(circle, facilitator)
    db.session.commit()
    _taken_after_the_check(monkeypatch, "newcomer")

    response = client.post_form(
        f"/join/{token}",
        {
            "username": "Newcomer",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "display_name": "Late by a moment",
        },
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert TAKEN in page and 'name="username"' in page
    assert _accounts("newcomer") == 1  # the other person's, not this one
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.display_name == "Late by a moment")
        )
        == 0
    )
    invite = db.session.scalar(select(Invite).where(Invite.token_hash == digest(token)))
    assert invite.used_at is None and invite.used_by_id is None
    assert (
        db.session.scalar(
            select(func.count()).select_from(Membership).where(Membership.circle_id == circle.id)
        )
        == 1
    )
    assert client.get("/account").status_code == 302  # not signed in
    monkeypatch.undo()
    after = client.post_form(
        f"/join/{token}",
        {"username": "newcomer2", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert after.status_code == 302  # the link still works


def test_the_command_line_refuses_a_name_taken_meanwhile(app, make_circle, monkeypatch):
    circle = make_circle("caregivers-pune", "Caregivers' circle")
    _taken_after_the_check(monkeypatch, "rohan")

    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "Rohan",
            "--circle",
            circle.slug,
            "--display-name",
            "Second Rohan",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )

    assert result.exit_code == 1
    assert TAKEN in result.output and "Traceback" not in result.output
    assert _accounts("rohan") == 1
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0


def test_an_account_is_kept_only_when_the_request_commits(request_context):
    """The savepoint is inside the request's transaction, never its start: on SQLite a
    savepoint that opened the transaction would have committed the account on release."""
    ops.create_account("kiran", PASSWORD)
    rollback()
    assert _accounts("kiran") == 0


def test_after_a_refused_name_the_request_can_still_write(
    request_context, make_account, monkeypatch
):
    facilitator = make_account("meera", role="facilitator")
    _taken_after_the_check(monkeypatch, "kiran")

    with pytest.raises(Refused) as refused:
        ops.create_account("Kiran", PASSWORD, display_name="Second Kiran")

    assert refused.value.field == "username" and str(refused.value.message) == TAKEN
    facilitator.display_name = "Meera"
    db.session.flush()  # the transaction was not spoiled by the failed insert
    assert (
        db.session.scalar(select(Account.display_name).where(Account.id == facilitator.id))
        == "Meera"
    )
    rollback()
    assert db.session.get(Account, facilitator.id).display_name is None
    assert _accounts("kiran") == 1
