"""Invite links: made by facilitators, used once, expiring, revocable; joining from one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from archive.db import db, utcnow
from archive.models import Account, Invite, Membership
from archive.operations import Refused
from archive.operations import accounts as ops
from archive.passwords import digest
from tests.conftest import PASSWORD, csrf_token

pytestmark = pytest.mark.both_databases

LINK = re.compile(r'>(https?://[^"<]+/join/([A-Za-z0-9_\-]+))</textarea>')
ALREADY_USED = "This invite link has already been used."
EXPIRED = "This invite link has expired."
NOT_VALID = "This invite link is not valid."


def _accounts() -> int:
    return db.session.scalar(select(func.count()).select_from(Account))


def _membership(account_id, circle) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.account_id == account_id, Membership.circle_id == circle.id
        )
    )


def _invite(token: str) -> Invite:
    db.session.expire_all()
    return db.session.scalar(select(Invite).where(Invite.token_hash == digest(token)))


def _new_invite(circle, by, **kwargs) -> str:
    token = ops.create_invite(circle, by, **kwargs)
    db.session.commit()
    return token


def _join_form(username="newcomer", password=PASSWORD, again=None, display_name=""):
    return {
        "username": username,
        "password": password,
        "password_again": password if again is None else again,
        "display_name": display_name,
    }


@pytest.fixture
def circle(make_circle):
    return make_circle("caregivers-pune", "Caregivers' circle")


@pytest.fixture
def facilitator(make_account, circle):
    return make_account("meera", role="facilitator", circle=circle)


# --- making an invite ---------------------------------------------------------------------


def test_facilitator_makes_an_invite_link(signed_in, facilitator, circle):
    client = signed_in(facilitator)
    response = client.post_form(
        f"/circles/{circle.slug}/invites",
        {"days": "3"},
        page=f"/circles/{circle.slug}/members",
        follow_redirects=True,
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    link, token = LINK.search(html).groups()
    assert link == f"http://localhost/join/{token}"
    assert response.headers["Cache-Control"] == "no-store"
    invite = _invite(token)
    assert invite.circle_id == circle.id
    assert invite.role == "participant"
    assert invite.created_by_id == facilitator.id
    assert invite.used_at is None
    assert timedelta(days=2, hours=23) < invite.expires_at - utcnow() <= timedelta(days=3)
    assert token not in repr([getattr(invite, c.key) for c in Invite.__table__.columns])


def test_someone_new_joins_from_the_link(signed_in, make_client, facilitator, circle):
    token = LINK.search(
        signed_in(facilitator)
        .post_form(
            f"/circles/{circle.slug}/invites",
            {"days": "7"},
            page=f"/circles/{circle.slug}/members",
            follow_redirects=True,
        )
        .get_data(as_text=True)
    ).group(2)
    newcomer = make_client()
    page = newcomer.get(f"/join/{token}")
    assert page.status_code == 200
    assert "Caregivers&#39; circle" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"

    response = newcomer.post_form(f"/join/{token}", _join_form(display_name="Nisha"))

    assert response.status_code == 302
    assert response.location == f"/circles/{circle.slug}"
    account = db.session.scalar(select(Account).where(Account.username_key == "newcomer"))
    assert account.display_name == "Nisha"
    assert account.role == "participant"
    assert _membership(account.id, circle).role == "participant"
    invite = _invite(token)
    assert invite.used_at is not None and invite.used_by_id == account.id
    assert newcomer.get(f"/circles/{circle.slug}").status_code == 200  # signed in, a member


def test_a_link_works_only_once(make_client, facilitator, circle):
    token = _new_invite(circle, facilitator)
    first = make_client()
    assert first.post_form(f"/join/{token}", _join_form("first_one")).status_code == 302
    before = _accounts()

    second = make_client()
    page = second.get(f"/join/{token}")
    assert page.status_code == 410
    assert ALREADY_USED in page.get_data(as_text=True)
    sent = second.post_form(f"/join/{token}", _join_form("second_one"), page="/sign-in")
    assert sent.status_code == 410

    assert _accounts() == before
    assert db.session.scalar(select(Account).where(Account.username_key == "second_one")) is None


def test_an_open_join_page_cannot_be_sent_after_the_link_is_used(make_client, facilitator, circle):
    token = _new_invite(circle, facilitator)
    late = make_client()
    html = late.get(f"/join/{token}").get_data(as_text=True)  # opened, not yet sent
    assert make_client().post_form(f"/join/{token}", _join_form("quick")).status_code == 302

    response = late.post(
        f"/join/{token}", data={"csrf_token": csrf_token(html), **_join_form("slow")}
    )

    assert response.status_code == 410
    assert ALREADY_USED in response.get_data(as_text=True)
    assert db.session.scalar(select(Account).where(Account.username_key == "slow")) is None


def test_an_expired_link_is_refused(client, facilitator, circle):
    token = _new_invite(circle, facilitator)
    invite = _invite(token)
    invite.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = _accounts()

    page = client.get(f"/join/{token}")
    assert page.status_code == 410
    assert EXPIRED in page.get_data(as_text=True)
    sent = client.post_form(f"/join/{token}", _join_form(), page="/sign-in")
    assert sent.status_code == 410

    assert _accounts() == before
    assert _invite(token).used_at is None


def test_a_revoked_link_is_not_found(signed_in, make_client, facilitator, circle):
    token = _new_invite(circle, facilitator)
    manager = signed_in(facilitator)
    invite_id = _invite(token).id

    response = manager.post_form(
        f"/circles/{circle.slug}/invites/{invite_id}/revoke", page=f"/circles/{circle.slug}/members"
    )

    assert response.status_code == 302
    assert _invite(token).revoked_at is not None
    visitor = make_client()
    page = visitor.get(f"/join/{token}")
    assert page.status_code == 404
    assert NOT_VALID in page.get_data(as_text=True)
    before = _accounts()
    assert visitor.post_form(f"/join/{token}", _join_form(), page="/sign-in").status_code == 404
    assert _accounts() == before


def test_an_unknown_token_is_not_found(client, facilitator):
    response = client.get("/join/not-a-real-token")
    assert response.status_code == 404
    assert NOT_VALID in response.get_data(as_text=True)


def test_revoking_an_invite_of_another_circle_is_not_found(
    signed_in, make_circle, make_account, facilitator, circle
):
    other = make_circle("young-voices")
    other_facilitator = make_account("ravi", role="facilitator", circle=other)
    token = _new_invite(other, other_facilitator)

    response = signed_in(facilitator).post_form(
        f"/circles/{circle.slug}/invites/{_invite(token).id}/revoke",
        page=f"/circles/{circle.slug}/members",
    )

    assert response.status_code == 404
    assert _invite(token).revoked_at is None


# --- who may make invites -----------------------------------------------------------------


def test_a_participant_cannot_make_invites(signed_in, make_account, circle):
    participant = make_account("asha", circle=circle)
    client = signed_in(participant)
    assert client.get(f"/circles/{circle.slug}/members").status_code == 403

    response = client.post_form(
        f"/circles/{circle.slug}/invites", {"days": "7"}, page=f"/circles/{circle.slug}"
    )

    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Invite)) == 0


def test_a_facilitator_of_another_circle_cannot_make_invites(
    signed_in, make_circle, make_account, circle
):
    other = make_circle("young-voices")
    stranger = make_account("ravi", role="facilitator", circle=other)
    client = signed_in(stranger)

    response = client.post_form(
        f"/circles/{circle.slug}/invites", {"days": "7"}, page=f"/circles/{other.slug}/members"
    )

    assert response.status_code in (403, 404)
    assert db.session.scalar(select(func.count()).select_from(Invite)) == 0


def test_a_facilitator_cannot_make_a_facilitator_invite(signed_in, facilitator, circle):
    response = signed_in(facilitator).post_form(
        f"/circles/{circle.slug}/invites",
        {"days": "7", "role": "facilitator"},
        page=f"/circles/{circle.slug}/members",
        follow_redirects=True,
    )
    assert response.status_code == 200
    token = LINK.search(response.get_data(as_text=True)).group(2)
    assert _invite(token).role == "participant"


def test_an_admin_makes_a_facilitator_invite(signed_in, make_client, make_account, circle):
    admin = make_account("admin", role="admin")
    response = signed_in(admin).post_form(
        f"/circles/{circle.slug}/invites",
        {"days": "7", "role": "facilitator"},
        page=f"/circles/{circle.slug}/members",
        follow_redirects=True,
    )
    token = LINK.search(response.get_data(as_text=True)).group(2)
    assert _invite(token).role == "facilitator"

    joined = make_client().post_form(f"/join/{token}", _join_form("new_facilitator"))

    assert joined.status_code == 302
    account = db.session.scalar(select(Account).where(Account.username_key == "new_facilitator"))
    assert account.role == "facilitator"
    assert _membership(account.id, circle).role == "facilitator"


def test_invite_length_is_limited(request_context, facilitator, circle):
    for days in (0, -1, 31):
        with pytest.raises(Refused):
            ops.create_invite(circle, facilitator, days=days)


# --- joining while signed in --------------------------------------------------------------


def test_a_signed_in_person_joins_with_one_button(
    signed_in, make_circle, make_account, facilitator, circle
):
    other = make_circle("young-voices")
    asha = make_account("asha", circle=other)
    token = _new_invite(circle, facilitator)
    client = signed_in(asha)
    before = _accounts()

    page = client.get(f"/join/{token}")
    assert page.status_code == 200
    assert 'name="username"' not in page.get_data(as_text=True)
    response = client.post_form(f"/join/{token}")

    assert response.status_code == 302
    assert response.location == f"/circles/{circle.slug}"
    assert _accounts() == before
    assert _membership(asha.id, circle).role == "participant"
    assert _membership(asha.id, other) is not None
    assert _invite(token).used_by_id == asha.id


def test_redeeming_twice_is_refused(request_context, make_account, facilitator, circle):
    token = _new_invite(circle, facilitator)
    first, second = make_account("first_one"), make_account("second_one")

    ops.redeem_invite(token, first)
    db.session.commit()  # one request ends
    with pytest.raises(Refused) as refused:  # a later one tries the same link
        ops.redeem_invite(token, second)

    assert refused.value.status == 410
    db.session.rollback()
    assert _membership(first.id, circle) is not None
    assert _membership(second.id, circle) is None


def test_two_redemptions_at_the_same_moment(
    request_context, make_account, facilitator, circle, monkeypatch
):
    """Both requests passed the "is it still unused?" check; only one may claim the link."""
    token = _new_invite(circle, facilitator)
    first, second = make_account("first_one"), make_account("second_one")
    invite = ops.open_invite(token)
    monkeypatch.setattr(ops, "open_invite", lambda _token: invite)

    ops.redeem_invite(token, first)
    with pytest.raises(Refused) as refused:
        ops.redeem_invite(token, second)

    assert refused.value.status == 410
    db.session.commit()
    assert _membership(first.id, circle) is not None
    assert _membership(second.id, circle) is None
    assert _invite(token).used_by_id == first.id


# --- bad input on the join form -----------------------------------------------------------


@pytest.mark.parametrize(
    "form, message",
    [
        (
            _join_form(password="short", again="short"),
            "Please use at least 10 characters for your password.",
        ),
        (_join_form(again=PASSWORD + " but different"), "The two passwords are not the same."),
        (_join_form(username="Meera"), "That username is taken."),
        (_join_form(username="has space"), "A username has 3 to 40 letters or digits"),
        (_join_form(username=""), "Please fill this in."),
    ],
)
def test_bad_join_form_changes_nothing(client, facilitator, circle, form, message):
    token = _new_invite(circle, facilitator)
    before = _accounts()

    response = client.post_form(f"/join/{token}", form)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _accounts() == before
    invite = _invite(token)
    assert invite.used_at is None and invite.used_by_id is None
    assert client.get("/account").status_code == 302  # not signed in
    # and the link still works afterwards
    assert client.post_form(f"/join/{token}", _join_form("after_a_mistake")).status_code == 302


def test_an_invite_length_not_offered_is_refused(signed_in, facilitator, circle):
    response = signed_in(facilitator).post_form(
        f"/circles/{circle.slug}/invites", {"days": "365"}, page=f"/circles/{circle.slug}/members"
    )
    assert response.status_code == 422
    assert "Invite someone" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Invite)) == 0


def test_a_facilitator_using_a_participant_link_stays_facilitator(
    signed_in, facilitator, make_account, circle
):
    admin = make_account("admin", role="admin")
    token = _new_invite(circle, admin)  # a participant link, opened by a facilitator
    client = signed_in(facilitator)

    response = client.post_form(f"/join/{token}")

    assert response.status_code == 302
    assert _membership(facilitator.id, circle).role == "facilitator"
    assert client.get(f"/circles/{circle.slug}/members").status_code == 200


def test_a_link_claimed_meanwhile_gives_the_gone_page(
    signed_in, make_account, facilitator, circle, monkeypatch
):
    """Two tabs, one link: the second tab's button says the link is used, not an error."""
    token = _new_invite(circle, facilitator)
    asha = make_account("asha")
    client = signed_in(asha)
    page = client.get(f"/join/{token}").get_data(as_text=True)
    real_open = ops.open_invite
    monkeypatch.setattr(ops, "open_invite", lambda t: (real_open(t), _claim_elsewhere(t))[0])

    response = client.post(f"/join/{token}", data={"csrf_token": csrf_token(page)})

    assert response.status_code == 410
    assert ALREADY_USED in response.get_data(as_text=True)
    assert _membership(asha.id, circle) is None


def _claim_elsewhere(token: str) -> None:
    """Another request uses the link between this request's check and its claim."""
    with db.engine.begin() as connection:
        connection.execute(
            update(Invite).where(Invite.token_hash == digest(token)).values(used_at=utcnow())
        )
