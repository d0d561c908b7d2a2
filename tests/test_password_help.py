"""Password help without email: a facilitator (for a participant of their circle) or an admin
(for anyone but himself) makes a one-time link that expires; the member follows it and
chooses a new password, which ends every other session and every API token. A used, expired
or unknown link answers one clear page; the link never reaches the access log; the circle's
facilitators (and the member) see that help was given, without any content."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from archive import access
from archive.db import db, utcnow
from archive.models import ApiToken, CircleEvent, PasswordReset
from archive.operations import Refused
from archive.operations import accounts as ops
from archive.passwords import digest
from tests.conftest import PASSWORD

LINK = re.compile(r"(https?://[^\s\"'<>]+/reset/([A-Za-z0-9_\-]+))")
NEW = "a new song for the morning"
GONE = "This link to choose a new password does not work any more."


@pytest.fixture
def people(make_circle, make_account):
    """Meera facilitates Ghar, where Asha and Ravi take part and Farah also facilitates;
    Rohan takes part in another circle; Ravi-admin manages the site."""
    ghar, other = make_circle("ghar", "Ghar"), make_circle("young-voices", "Young voices")
    return {
        "circle": ghar,
        "other": other,
        "meera": make_account("meera", role="facilitator", circle=ghar, display_name="Meera"),
        "farah": make_account("farah", role="facilitator", circle=ghar),
        "asha": make_account("asha", circle=ghar, display_name="Asha"),
        "ravi": make_account("ravi", circle=ghar),
        "rohan": make_account("rohan", circle=other),
        "admin": make_account("ravi_admin", role="admin"),
    }


def _members_page(circle) -> str:
    return f"/circles/{circle.slug}/members"


def _ask_for_link(client, circle, account):
    return client.post_form(
        f"/circles/{circle.slug}/members/{account.id}/password-link",
        page=_members_page(circle),
        follow_redirects=True,
    )


def _link_from(response) -> tuple[str, str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return LINK.search(response.get_data(as_text=True)).groups()


def _main(response) -> str:
    html = response.get_data(as_text=True)
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def _resets() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(PasswordReset))


def _help_events(circle) -> list[tuple]:
    db.session.expire_all()
    return [
        (e.subject.username, e.actor.username, e.actor_role)
        for e in db.session.scalars(
            select(CircleEvent)
            .where(CircleEvent.circle_id == circle.id, CircleEvent.event == "password_help")
            .order_by(CircleEvent.id)
        )
    ]


def test_a_facilitator_helps_a_participant_choose_a_new_password(signed_in, make_client, people):
    circle, asha = people["circle"], people["asha"]
    at_home = signed_in(asha)  # a session the reset must end
    token = ops.create_token(asha, "phone")
    db.session.commit()
    members = signed_in(people["meera"]).get(_members_page(circle)).get_data(as_text=True)
    assert f"/members/{asha.id}/password-link" in members
    for not_hers in (people["farah"], people["meera"]):  # a facilitator, and herself
        assert f"/members/{not_hers.id}/password-link" not in members

    made = _ask_for_link(signed_in(people["meera"]), circle, asha)

    link, secret = _link_from(made)
    html = made.get_data(as_text=True)
    assert made.headers["Cache-Control"] == "no-store"
    assert "https://wa.me/?text=" in html and 'href="sms:?&amp;body=' in html
    assert f">{link}</textarea>" in html  # the whole link, to copy
    stored = db.session.scalar(select(PasswordReset))
    assert stored.token_hash == digest(secret) and stored.account_id == asha.id
    assert secret not in repr([getattr(stored, c.key) for c in PasswordReset.__table__.columns])
    assert timedelta(hours=23, minutes=59) < stored.expires_at - utcnow() <= timedelta(hours=24)

    member = make_client()
    form = member.get(f"/reset/{secret}")
    assert form.status_code == 200 and "asha" in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store"
    short = member.post_form(
        f"/reset/{secret}", {"new_password": "short", "new_password_again": "short"}
    )
    assert short.status_code == 422
    assert "at least 10 characters" in short.get_data(as_text=True)
    chosen = member.post_form(f"/reset/{secret}", {"new_password": NEW, "new_password_again": NEW})

    assert chosen.status_code == 302
    assert member.get("/account").status_code == 200  # signed in as Asha
    assert at_home.get("/account").status_code == 302  # her other session ended
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.revoked_at)) is not None
    assert (
        make_client()
        .get("/api/v1/search?q=x", headers={"Authorization": f"Bearer {token}"})
        .status_code
        == 401
    )
    assert ops.authenticate("asha", PASSWORD) is None
    assert ops.authenticate("asha", NEW) is not None
    again = make_client().get(f"/reset/{secret}")
    assert again.status_code == 404 and GONE in again.get_data(as_text=True)
    assert _help_events(circle) == [("asha", "meera", "facilitator")]


def test_a_facilitator_is_refused_for_anyone_but_the_participants_of_her_circles(
    request_context, signed_in, people
):
    meera, circle, other = people["meera"], people["circle"], people["other"]
    client = signed_in(meera)
    admin_in_circle = people["admin"]
    from archive.operations.circles import add_member

    add_member(circle, admin_in_circle, "participant")
    db.session.commit()

    for account in (people["rohan"], people["farah"], admin_in_circle, meera):
        assert not access.may_help_with_password(meera, account)
        assert _ask_for_link(client, circle, account).status_code == 404
        with pytest.raises(Refused) as refused:
            ops.create_password_reset(meera, account)
        assert refused.value.status == 404
    assert (
        client.post_form(
            f"/circles/{other.slug}/members/{people['rohan'].id}/password-link", page="/"
        ).status_code
        == 404
    )
    participant = signed_in(people["ravi"])
    assert _ask_for_link(participant, circle, people["asha"]).status_code in (403, 404)
    assert not access.may_help_with_password(people["ravi"], people["asha"])
    assert not access.may_help_with_password(None, people["asha"])
    assert _resets() == 0 and _help_events(circle) == []
    asha = people["asha"]
    asha.active = False  # an account that was closed gets no link
    db.session.commit()
    for helper in (meera, people["admin"]):
        assert not access.may_help_with_password(helper, asha)


def test_an_admin_helps_anyone_but_himself(signed_in, make_client, people):
    admin, meera = people["admin"], people["meera"]
    client = signed_in(admin)
    accounts_page = client.get("/admin/accounts").get_data(as_text=True)
    assert f"/admin/accounts/{meera.id}/password-link" in accounts_page
    assert f"/admin/accounts/{admin.id}/password-link" not in accounts_page

    made = client.post_form(
        f"/admin/accounts/{meera.id}/password-link", page="/admin/accounts", follow_redirects=True
    )

    _link, secret = _link_from(made)
    assert (
        make_client()
        .post_form(f"/reset/{secret}", {"new_password": NEW, "new_password_again": NEW})
        .status_code
        == 302
    )
    db.session.expire_all()
    assert ops.authenticate("meera", NEW) is not None
    assert _help_events(people["circle"]) == [("meera", "ravi_admin", "admin")]
    assert (
        client.post_form(
            f"/admin/accounts/{admin.id}/password-link", page="/admin/accounts"
        ).status_code
        == 404
    )
    assert (
        signed_in(meera, NEW)
        .post_form(f"/admin/accounts/{people['asha'].id}/password-link", page="/")
        .status_code
        == 403
    )


def test_used_expired_replaced_and_unknown_links_answer_alike(signed_in, make_client, people):
    meera, circle, asha = people["meera"], people["circle"], people["asha"]
    facilitator = signed_in(meera)
    _link, used = _link_from(_ask_for_link(facilitator, circle, asha))
    assert (
        make_client()
        .post_form(f"/reset/{used}", {"new_password": NEW, "new_password_again": NEW})
        .status_code
        == 302
    )
    _link, replaced = _link_from(_ask_for_link(facilitator, circle, people["ravi"]))
    _link, expired = _link_from(_ask_for_link(facilitator, circle, people["ravi"]))
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.token_hash == digest(expired))
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()

    visitor = make_client()
    answers = [
        visitor.get(f"/reset/{secret}")
        for secret in (used, replaced, expired, "not-a-real-link", "x" * 400)
    ]
    assert {answer.status_code for answer in answers} == {404}
    assert len({_main(answer) for answer in answers}) == 1
    assert GONE in _main(answers[0])
    tried = visitor.post_form(
        f"/reset/{expired}",
        {"new_password": "one more new one", "new_password_again": "one more new one"},
        page="/sign-in",
    )
    assert tried.status_code == 404 and _main(tried) == _main(answers[0])
    assert ops.authenticate("ravi", PASSWORD) is not None  # nothing changed


@pytest.mark.both_databases  # the link is claimed by one UPDATE: on PostgreSQL too
def test_a_link_works_once_even_when_sent_twice(request_context, people):
    secret = ops.create_password_reset(people["meera"], people["asha"])
    db.session.commit()
    assert ops.reset_password(secret, NEW).username == "asha"
    db.session.commit()
    with pytest.raises(Refused) as refused:
        ops.reset_password(secret, "yet another password")
    assert refused.value.status == 404
    db.session.rollback()
    assert ops.authenticate("asha", NEW) is not None


def test_help_shows_on_the_circle_page_to_its_facilitators_and_the_member(signed_in, people):
    circle = people["circle"]
    _ask_for_link(signed_in(people["meera"]), circle, people["asha"])
    line = "A link to choose a new password was made for Asha"

    for who in ("farah", "asha"):  # another facilitator; the member herself
        page = signed_in(people[who]).get(f"/circles/{circle.slug}").get_data(as_text=True)
        assert line in page, who
        assert "Made by Meera, a facilitator." in page
    page = signed_in(people["ravi"]).get(f"/circles/{circle.slug}").get_data(as_text=True)
    assert line not in page and "choose a new password" not in page


def test_the_sign_in_page_says_who_helps(client):
    html = client.get("/sign-in").get_data(as_text=True)
    assert "Forgot your password?" in html and "link" in html


def test_reset_links_never_reach_the_access_log():
    from archive.serving import safe_route, scrub

    assert safe_route("/reset/zqxsecret4reset") == "/reset/…"
    assert "zqxsecret4reset" not in scrub("Error handling request /reset/zqxsecret4reset?x=1")
