"""Circles and administration: who may create, see and manage circles and roles."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from archive.db import db
from archive.models import Account, Circle, Membership
from archive.operations import Refused
from archive.operations import accounts as account_ops


def _circles() -> int:
    return db.session.scalar(select(func.count()).select_from(Circle))


def _membership(account, circle) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(
            Membership.account_id == account.id, Membership.circle_id == circle.id
        )
    )


@pytest.fixture
def admin(make_account):
    return make_account("admin", role="admin")


# --- creating circles ---------------------------------------------------------------------


def test_admin_creates_a_circle(signed_in, admin):
    client = signed_in(admin)
    response = client.post_form(
        "/admin/circles",
        {
            "name": "Caregivers' circle, Pune",
            "slug": "caregivers-pune",
            "description": "Thursday evenings",
            "languages": ["hi", "mr"],
        },
        page="/admin/",
    )

    assert response.status_code == 302
    assert response.location == "/admin/circles/caregivers-pune"
    circle = db.session.scalar(select(Circle).where(Circle.slug == "caregivers-pune"))
    assert circle.name == "Caregivers' circle, Pune"
    assert circle.description == "Thursday evenings"
    assert circle.languages == "hi mr"
    assert client.get("/admin/").status_code == 200
    assert "Caregivers&#39; circle, Pune" in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize(
    "slug", ["Bad Slug!", "ab", "-starts-with-hyphen", "ends-", "x" * 65, "दिल"]
)
def test_a_bad_slug_is_refused(signed_in, admin, slug):
    response = signed_in(admin).post_form(
        "/admin/circles", {"name": "A circle", "slug": slug, "languages": ["en"]}, page="/admin/"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert (
        "A short name for links uses 3 to 64 small letters" in html
        or "Please keep this under 65 characters." in html
    )
    assert _circles() == 0


def test_a_duplicate_slug_is_refused(signed_in, admin, make_circle):
    make_circle("young-voices", "Young voices")
    response = signed_in(admin).post_form(
        "/admin/circles",
        {"name": "Another", "slug": "Young-Voices", "languages": ["en"]},
        page="/admin/",
    )
    assert response.status_code == 422
    assert "A circle with that short name already exists." in response.get_data(as_text=True)
    assert _circles() == 1
    assert db.session.scalar(select(Circle.name)) == "Young voices"


def test_a_circle_needs_a_name(signed_in, admin):
    response = signed_in(admin).post_form(
        "/admin/circles", {"name": "", "slug": "no-name", "languages": ["en"]}, page="/admin/"
    )
    assert response.status_code == 422
    assert "Please fill this in." in response.get_data(as_text=True)
    assert _circles() == 0


# --- adding facilitators ------------------------------------------------------------------


def test_admin_adds_a_facilitator(signed_in, admin, make_account, make_circle):
    circle = make_circle("young-voices")
    meera = make_account("Meera", role="facilitator")

    response = signed_in(admin).post_form(
        f"/admin/circles/{circle.slug}", {"username": "meera", "role": "facilitator"}
    )

    assert response.status_code == 302
    assert _membership(meera, circle).role == "facilitator"
    assert signed_in(meera).get(f"/circles/{circle.slug}/members").status_code == 200


def test_a_participant_account_cannot_facilitate(signed_in, admin, make_account, make_circle):
    circle = make_circle("young-voices")
    asha = make_account("asha")
    response = signed_in(admin).post_form(
        f"/admin/circles/{circle.slug}", {"username": "asha", "role": "facilitator"}
    )
    assert response.status_code == 422
    assert "Only a facilitator account can facilitate a circle." in response.get_data(as_text=True)
    assert _membership(asha, circle) is None


def test_adding_an_unknown_username(signed_in, admin, make_circle):
    circle = make_circle("young-voices")
    response = signed_in(admin).post_form(
        f"/admin/circles/{circle.slug}", {"username": "nobody", "role": "participant"}
    )
    assert response.status_code == 422
    assert "There is no account with that username." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0


def test_admin_page_of_an_unknown_circle(signed_in, admin):
    assert signed_in(admin).get("/admin/circles/no-such-circle").status_code == 404


# --- who may see what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["participant", "facilitator"])
def test_non_admins_are_kept_out_of_administration(signed_in, make_account, make_circle, role):
    circle = make_circle("young-voices")
    person = make_account("someone", role=role, circle=circle)
    client = signed_in(person)
    for url in ("/admin/", "/admin/accounts", f"/admin/circles/{circle.slug}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "This page is not open to you" in response.get_data(as_text=True)
    sent = client.post_form(
        "/admin/circles", {"name": "Mine", "slug": "mine", "languages": ["en"]}, page="/"
    )
    assert sent.status_code == 403
    assert _circles() == 1
    sent = client.post_form(f"/admin/accounts/{person.id}/role", {"role": "admin"}, page="/")
    assert sent.status_code == 403
    db.session.expire_all()
    assert db.session.get(Account, person.id).role == role


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in ("/admin/", "/circles/", "/circles/anything", "/account"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/sign-in?next="), url


def test_a_stranger_cannot_see_a_circle(signed_in, make_account, make_circle):
    circle = make_circle("caregivers-pune", "Caregivers' circle")
    other = make_circle("young-voices")
    member = make_account("asha", circle=circle)
    stranger = make_account("rohan", circle=other)
    other_facilitator = make_account("ravi", role="facilitator", circle=other)

    assert signed_in(member).get(f"/circles/{circle.slug}").status_code == 200
    for outsider in (stranger, other_facilitator):
        client = signed_in(outsider)
        for url in (f"/circles/{circle.slug}", f"/circles/{circle.slug}/members"):
            response = client.get(url)
            assert response.status_code == 404, (outsider.username, url)
            assert "Caregivers" not in response.get_data(as_text=True)
        assert "Caregivers" not in client.get("/circles/").get_data(as_text=True)
        assert "Caregivers" not in client.get("/").get_data(as_text=True)


def test_an_unknown_circle_looks_the_same_as_a_hidden_one(signed_in, make_account, make_circle):
    make_circle("hidden-circle")
    client = signed_in(make_account("rohan"))
    hidden = client.get("/circles/hidden-circle")
    unknown = client.get("/circles/no-such-circle")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_data(as_text=True).replace(
        "hidden-circle", "no-such-circle"
    ) == unknown.get_data(as_text=True)


def test_members_see_their_circles_listed(signed_in, make_account, make_circle):
    mine = make_circle("young-voices", "Young voices")
    make_circle("caregivers-pune", "Caregivers")
    html = signed_in(make_account("rohan", circle=mine)).get("/circles/").get_data(as_text=True)
    assert "Young voices" in html
    assert "Caregivers" not in html


# --- removing members ---------------------------------------------------------------------


def test_a_facilitator_removes_a_participant(signed_in, make_account, make_circle):
    circle = make_circle("young-voices")
    facilitator = make_account("meera", role="facilitator", circle=circle)
    rohan = make_account("rohan", circle=circle)
    members_page = f"/circles/{circle.slug}/members"

    response = signed_in(facilitator).post_form(
        f"/circles/{circle.slug}/members/{rohan.id}/remove", page=members_page
    )

    assert response.status_code == 302
    assert _membership(rohan, circle) is None
    assert signed_in(rohan).get(f"/circles/{circle.slug}").status_code == 404


def test_a_facilitator_cannot_remove_another_facilitator(signed_in, make_account, make_circle):
    circle = make_circle("young-voices")
    meera = make_account("meera", role="facilitator", circle=circle)
    ravi = make_account("ravi", role="facilitator", circle=circle)
    client = signed_in(meera)

    response = client.post_form(
        f"/circles/{circle.slug}/members/{ravi.id}/remove", page=f"/circles/{circle.slug}/members"
    )

    assert response.status_code == 302
    assert "Only an admin can remove a facilitator." in client.get(response.location).get_data(
        as_text=True
    )
    assert _membership(ravi, circle).role == "facilitator"


def test_a_facilitator_cannot_remove_themselves(signed_in, make_account, make_circle):
    circle = make_circle("young-voices")
    meera = make_account("meera", role="facilitator", circle=circle)
    signed_in(meera).post_form(
        f"/circles/{circle.slug}/members/{meera.id}/remove", page=f"/circles/{circle.slug}/members"
    )
    assert _membership(meera, circle) is not None


def test_a_participant_cannot_remove_anyone(signed_in, make_account, make_circle):
    circle = make_circle("young-voices")
    asha = make_account("asha", circle=circle)
    rohan = make_account("rohan", circle=circle)
    response = signed_in(asha).post_form(
        f"/circles/{circle.slug}/members/{rohan.id}/remove", page=f"/circles/{circle.slug}"
    )
    assert response.status_code == 403
    assert _membership(rohan, circle) is not None


def test_an_admin_removes_a_facilitator(signed_in, admin, make_account, make_circle):
    circle = make_circle("young-voices")
    ravi = make_account("ravi", role="facilitator", circle=circle)
    signed_in(admin).post_form(
        f"/circles/{circle.slug}/members/{ravi.id}/remove", page=f"/circles/{circle.slug}/members"
    )
    assert _membership(ravi, circle) is None


# --- roles --------------------------------------------------------------------------------


def test_demoting_the_last_admin_is_refused(signed_in, admin):
    client = signed_in(admin)
    response = client.post_form(
        f"/admin/accounts/{admin.id}/role", {"role": "participant"}, page="/admin/accounts"
    )
    assert response.status_code == 302
    assert "The site needs at least one admin." in client.get(response.location).get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Account, admin.id).role == "admin"


def test_one_of_two_admins_can_be_demoted(signed_in, admin, make_account):
    second = make_account("second_admin", role="admin")
    signed_in(admin).post_form(
        f"/admin/accounts/{second.id}/role", {"role": "facilitator"}, page="/admin/accounts"
    )
    db.session.expire_all()
    assert db.session.get(Account, second.id).role == "facilitator"


def test_the_last_admin_rule_in_the_operation(request_context, admin):
    with pytest.raises(Refused):
        account_ops.set_role(admin, "facilitator")


def test_demoting_a_facilitator_demotes_their_circle_roles(
    signed_in, admin, make_account, make_circle
):
    circle = make_circle("young-voices")
    meera = make_account("meera", role="facilitator", circle=circle)
    signed_in(admin).post_form(
        f"/admin/accounts/{meera.id}/role", {"role": "participant"}, page="/admin/accounts"
    )
    assert _membership(meera, circle).role == "participant"
    assert db.session.get(Account, meera.id).role == "participant"


def test_accounts_page_shows_each_role_selected(signed_in, admin, make_account):
    make_account("meera", role="facilitator")
    html = signed_in(admin).get("/admin/accounts").get_data(as_text=True)
    assert '<option value="facilitator" selected>' in html
    assert '<option value="admin" selected>' in html
