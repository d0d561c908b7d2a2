"""Circle events: every change to who facilitates a circle (and every admin who joins or
leaves it) is recorded without content and shown to the circle's members on its page, so an
admin cannot quietly make himself a facilitator and read what people without accounts shared.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from archive import access
from archive.dates import show_date  # the one date style of every page
from archive.db import db
from archive.models import CIRCLE_EVENTS, EVENT_ACTOR_ROLES, CircleEvent, Membership
from archive.operations import Refused
from archive.operations import accounts as account_ops
from archive.operations import circles as circle_ops
from tests.conftest import PASSWORD

pytestmark = pytest.mark.both_databases

BECAME = "became a facilitator of this circle on"
NO_LONGER = "is no longer a facilitator of this circle"


# --- helpers ------------------------------------------------------------------------------


def events(circle) -> list[tuple]:
    """(event, subject username, actor username, actor role), oldest first."""
    db.session.expire_all()
    found = db.session.scalars(
        select(CircleEvent).where(CircleEvent.circle_id == circle.id).order_by(CircleEvent.id)
    )
    return [
        (
            e.event,
            e.subject.username if e.subject else None,
            e.actor.username if e.actor else None,
            e.actor_role,
        )
        for e in found
    ]


def event_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(CircleEvent))


def shown(client, circle) -> list[str]:
    """The lines of the circle page's list of changes, in the order shown."""
    response = client.get(f"/circles/{circle.slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    section = html.split('id="circle-changes"', 1)
    if len(section) < 2:
        return []
    body = section[1].split("</section>", 1)[0]
    items = re.findall(r"<li[^>]*>(.*?)</li>", body, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def membership(account, circle) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(
            Membership.account_id == account.id, Membership.circle_id == circle.id
        )
    )


@pytest.fixture
def circle(make_circle):
    return make_circle("caregivers-pune", "Caregivers' circle")


@pytest.fixture
def admin(make_account):
    return make_account("ravi_admin", role="admin", display_name="Ravi Admin")


@pytest.fixture
def member(make_account, circle):
    return make_account("asha", circle=circle, display_name="Asha")


def admin_adds(client, circle, username, role):
    return client.post_form(f"/admin/circles/{circle.slug}", {"username": username, "role": role})


# --- the attack: an admin makes himself a facilitator -------------------------------------


def test_an_admin_making_himself_facilitator_is_shown_to_the_members(
    signed_in, admin, member, circle
):
    client = signed_in(admin)

    response = admin_adds(client, circle, "ravi_admin", "facilitator")

    assert response.status_code == 302
    assert membership(admin, circle).role == "facilitator"
    assert events(circle) == [("facilitator_added", "ravi_admin", "ravi_admin", "admin")]
    lines = shown(signed_in(member), circle)
    assert len(lines) == 1
    assert lines[0].startswith(f"Ravi Admin {BECAME} ")
    assert "Changed by Ravi Admin, an admin." in lines[0]


def test_the_date_is_written_for_people(app, signed_in, admin, member, circle):
    admin_adds(signed_in(admin), circle, "ravi_admin", "facilitator")
    made = db.session.scalar(select(CircleEvent.created_at))
    with app.test_request_context():
        day = show_date(made)
    assert f"Ravi Admin {BECAME} {day}." in shown(signed_in(member), circle)[0]


def test_the_page_speaks_the_members_language(signed_in, admin, make_account, circle):
    admin_adds(signed_in(admin), circle, "ravi_admin", "facilitator")
    hindi = make_account("sunita", circle=circle, locale="hi")
    marathi = make_account("vaishali", circle=circle, locale="mr")
    for reader, word in ((hindi, "फ़ैसिलिटेटर"), (marathi, "फॅसिलिटेटर")):
        lines = shown(signed_in(reader), circle)
        assert len(lines) == 1 and "Ravi Admin" in lines[0]
        assert BECAME not in lines[0] and "Changed by" not in lines[0]
        assert word in lines[0]


def test_an_admin_joining_as_a_participant_is_shown(signed_in, admin, member, circle):
    """A member sees what is shared with the circle: an admin who joins sees it too."""
    admin_adds(signed_in(admin), circle, "ravi_admin", "participant")
    assert events(circle) == [("admin_joined", "ravi_admin", "ravi_admin", "admin")]
    assert "Ravi Admin, an admin, joined this circle on" in shown(signed_in(member), circle)[0]


def test_an_admin_using_a_facilitator_invite_himself_is_shown(signed_in, admin, member, circle):
    client = signed_in(admin)
    token = account_ops.create_invite(circle, admin, role="facilitator")
    db.session.commit()
    assert client.post_form(f"/join/{token}").status_code == 302

    assert membership(admin, circle).role == "facilitator"
    assert events(circle) == [("facilitator_added", "ravi_admin", "ravi_admin", "admin")]
    assert BECAME in shown(signed_in(member), circle)[0]


def test_someone_joining_through_a_facilitator_invite_is_shown(
    signed_in, make_client, admin, member, circle
):
    token = account_ops.create_invite(circle, admin, role="facilitator")
    db.session.commit()
    joined = make_client().post_form(
        f"/join/{token}",
        {
            "username": "meera",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "display_name": "Meera",
        },
    )
    assert joined.status_code == 302
    assert events(circle) == [("facilitator_added", "meera", "ravi_admin", "admin")]
    line = shown(signed_in(member), circle)[0]
    assert f"Meera {BECAME}" in line and "Changed by Ravi Admin, an admin." in line


# --- every way an admin changes a circle role ---------------------------------------------


def test_an_admin_adds_a_facilitator(signed_in, admin, member, make_account, circle):
    make_account("meera", role="facilitator", display_name="Meera")
    admin_adds(signed_in(admin), circle, "meera", "facilitator")
    assert events(circle) == [("facilitator_added", "meera", "ravi_admin", "admin")]
    assert shown(signed_in(member), circle)[0].startswith(f"Meera {BECAME}")


def test_an_admin_turns_a_facilitator_into_a_participant(
    signed_in, admin, member, make_account, circle
):
    meera = make_account("meera", role="facilitator", circle=circle, display_name="Meera")
    before = event_count()
    admin_adds(signed_in(admin), circle, "meera", "participant")
    assert membership(meera, circle).role == "participant"
    assert events(circle)[before:] == [("facilitator_removed", "meera", "ravi_admin", "admin")]
    assert shown(signed_in(member), circle)[0].startswith(f"Meera {NO_LONGER}")


def test_an_admin_turns_a_participant_into_a_facilitator(signed_in, admin, make_account, circle):
    meera = make_account(
        "meera", role="facilitator", circle=circle, circle_role="participant", display_name="Meera"
    )
    admin_adds(signed_in(admin), circle, "meera", "facilitator")
    assert membership(meera, circle).role == "facilitator"
    assert events(circle) == [("facilitator_added", "meera", "ravi_admin", "admin")]


def test_an_admin_removes_a_facilitator(signed_in, admin, member, make_account, circle):
    meera = make_account("meera", role="facilitator", circle=circle, display_name="Meera")
    before = event_count()
    response = signed_in(admin).post_form(
        f"/circles/{circle.slug}/members/{meera.id}/remove", page=f"/circles/{circle.slug}/members"
    )
    assert response.status_code == 302 and membership(meera, circle) is None
    assert events(circle)[before:] == [("facilitator_removed", "meera", "ravi_admin", "admin")]
    assert shown(signed_in(member), circle)[0].startswith(f"Meera {NO_LONGER}")


def test_an_admin_taking_away_the_facilitator_account_role(
    signed_in, admin, make_circle, make_account, circle
):
    """The account role "participant" ends every circle role it had: each circle is told."""
    other = make_circle("young-voices")
    meera = make_account("meera", role="facilitator", circle=circle, display_name="Meera")
    circle_ops.add_member(other, meera, "facilitator")
    db.session.commit()
    before = {c.id: len(events(c)) for c in (circle, other)}

    signed_in(admin).post_form(
        f"/admin/accounts/{meera.id}/role", {"role": "participant"}, page="/admin/accounts"
    )

    for place in (circle, other):
        assert events(place)[before[place.id] :] == [
            ("facilitator_removed", "meera", "ravi_admin", "admin")
        ]


def test_an_admin_who_leaves_is_shown(signed_in, admin, make_account, member, circle):
    second = make_account("second_admin", role="admin", display_name="Second Admin")
    admin_adds(signed_in(admin), circle, "ravi_admin", "participant")
    signed_in(second).post_form(
        f"/circles/{circle.slug}/members/{admin.id}/remove", page=f"/circles/{circle.slug}/members"
    )
    assert events(circle)[-1] == ("admin_left", "ravi_admin", "second_admin", "admin")
    line = shown(signed_in(member), circle)[0]
    assert "Ravi Admin, an admin, is no longer in this circle" in line
    assert "Changed by Second Admin, an admin." in line


def test_the_command_line_is_recorded_too(app, admin, member, circle):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "meera",
            "--role",
            "facilitator",
            "--circle",
            circle.slug,
            "--display-name",
            "Meera",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert events(circle) == [("facilitator_added", "meera", None, "site")]


# --- what is not recorded -----------------------------------------------------------------


def test_participants_coming_and_going_are_not_listed(signed_in, make_client, make_account, circle):
    meera = make_account("meera", role="facilitator", circle=circle)
    before = event_count()
    token = account_ops.create_invite(circle, meera)
    db.session.commit()
    make_client().post_form(
        f"/join/{token}",
        {"username": "rohan", "password": PASSWORD, "password_again": PASSWORD, "display_name": ""},
    )
    rohan = make_account("rohan2", circle=circle)
    signed_in(meera).post_form(
        f"/circles/{circle.slug}/members/{rohan.id}/remove", page=f"/circles/{circle.slug}/members"
    )
    assert membership(rohan, circle) is None
    assert event_count() == before


def test_a_refused_or_unchanged_role_records_nothing(signed_in, admin, make_account, circle):
    make_account("asha", circle=circle)
    make_account("meera", role="facilitator", circle=circle)
    before = event_count()
    client = signed_in(admin)
    assert admin_adds(client, circle, "asha", "facilitator").status_code == 422
    assert admin_adds(client, circle, "meera", "facilitator").status_code == 302
    assert event_count() == before


def test_the_operation_records_whoever_calls_it(request_context, admin, make_account, circle):
    meera = make_account("meera", role="facilitator")
    circle_ops.add_member(circle, meera, "facilitator", by=admin)
    circle_ops.remove_member(circle, meera, by=admin)
    with pytest.raises(Refused):
        circle_ops.remove_member(circle, meera, by=admin)
    assert events(circle) == [
        ("facilitator_added", "meera", "ravi_admin", "admin"),
        ("facilitator_removed", "meera", "ravi_admin", "admin"),
    ]


# --- who sees the changes, and how many -------------------------------------------------


def test_only_people_of_the_circle_see_its_changes(
    signed_in, admin, member, make_account, make_circle, circle
):
    other = make_circle("young-voices")
    outsider = make_account("rohan", circle=other)
    other_facilitator = make_account("farah", role="facilitator", circle=other)
    admin_adds(signed_in(admin), circle, "ravi_admin", "facilitator")

    assert access.may_view_circle_events(member, circle)
    assert access.may_view_circle_events(admin, circle)
    for stranger in (outsider, other_facilitator, None):
        assert not access.may_view_circle_events(stranger, circle)
    for stranger in (outsider, other_facilitator):
        client = signed_in(stranger)
        assert client.get(f"/circles/{circle.slug}").status_code == 404
        assert not any("Ravi Admin" in line for line in shown(client, other))
        assert "Ravi Admin" not in client.get(f"/circles/{other.slug}").get_data(as_text=True)


def test_newest_first_and_only_the_last_twenty(
    request_context, signed_in, admin, member, make_account, circle
):
    people = [
        make_account(f"helper{n}", role="facilitator", display_name=f"Helper {n:02d}")
        for n in range(12)
    ]
    for person in people:  # 24 changes: each becomes a facilitator, then is not
        circle_ops.add_member(circle, person, "facilitator", by=admin)
        circle_ops.add_member(circle, person, "participant", by=admin)
    db.session.commit()

    lines = shown(signed_in(member), circle)

    assert len(lines) == 20
    assert lines[0].startswith(f"Helper 11 {NO_LONGER}")
    assert lines[1].startswith(f"Helper 11 {BECAME}")
    assert lines[-1].startswith(f"Helper 02 {BECAME}")
    assert not any(line.startswith("Helper 01") for line in lines)


def test_names_are_shown_as_text(signed_in, make_account, admin, member, circle):
    make_account("meera", role="facilitator", display_name="<b>Meera</b>")
    admin_adds(signed_in(admin), circle, "meera", "facilitator")
    html = signed_in(member).get(f"/circles/{circle.slug}").get_data(as_text=True)
    assert "&lt;b&gt;Meera&lt;/b&gt; became a facilitator" in html
    assert "<b>Meera</b>" not in html


def test_a_circle_without_changes_shows_no_list(signed_in, member, circle):
    html = signed_in(member).get(f"/circles/{circle.slug}").get_data(as_text=True)
    assert 'id="circle-changes"' not in html


# --- content-free -------------------------------------------------------------------------


def test_an_event_holds_no_free_text():
    """Only numbers, a time and two enumerated words: nothing anyone wrote."""
    columns = CircleEvent.__table__.columns
    texts = {c.name for c in columns if isinstance(c.type, sa.String)}
    assert texts == {"event", "actor_role"}
    assert {c.name for c in columns} == {
        "id",
        "circle_id",
        "event",
        "subject_id",
        "actor_id",
        "actor_role",
        "created_at",
    }
    assert set(CIRCLE_EVENTS) == {
        "facilitator_added",
        "facilitator_removed",
        "admin_joined",
        "admin_left",
        "password_help",
        # a change to the circle's tag concepts: what was done, never which tags or names
        "tags_joined",
        "tags_relabelled",
        "tags_split",
    }
    assert set(EVENT_ACTOR_ROLES) == {"admin", "facilitator", "participant", "site"}


def test_recorded_values_are_from_the_enumerations(request_context, admin, make_account, circle):
    meera = make_account("meera", role="facilitator")
    circle_ops.add_member(circle, meera, "facilitator", by=admin)
    circle_ops.add_member(circle, admin, "participant", by=admin)
    circle_ops.remove_member(circle, admin, by=meera)
    circle_ops.remove_member(circle, meera)
    db.session.commit()
    for event in db.session.scalars(select(CircleEvent)):
        assert event.event in CIRCLE_EVENTS and event.actor_role in EVENT_ACTOR_ROLES
    assert [e[0] for e in events(circle)] == [
        "facilitator_added",
        "admin_joined",
        "admin_left",
        "facilitator_removed",
    ]
    assert [e[3] for e in events(circle)] == ["admin", "admin", "facilitator", "site"]
