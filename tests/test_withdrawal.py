"""Withdrawal is erasure, through every door (design.md, "INVARIANT: withdrawal erases"):
the contributor signed in, a facilitator on the contributor's request, anyone holding the
receipt's code, the JSON API and the command line. Then consent changes, review dates, the
ledger pages and receipts."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest

from archive import access
from archive.db import db
from archive.models import Consent
from archive.operations import consent as consent_ops
from tests.conftest import BrowserLikeClient
from tests.erasure_helpers import (
    DEVANAGARI_MARKER,
    MARKER,
    PSEUDONYM,
    Piece,
    World,
    assert_erased,
    change_consent,
    confirm_code,
    enter_code,
    events_of,
    ledger_file_lines,
    revise,
    share,
    snapshot,
    text,
    withdraw_signed_in,
    world,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.both_databases

GENERIC = (
    "That code does not match anything we hold. Please check it against your receipt and try again."
)
#: a code with zeros and ones in it, so the O-for-0 and I/L-for-1 readings can be tried
KNOWN_CODE = "70K1-M0AB-1C0D-E0FG-H1J0"


@pytest.fixture
def known_code(monkeypatch):
    """Receipts get KNOWN_CODE (then fresh random ones) instead of a random code."""
    codes = iter([KNOWN_CODE])
    real = consent_ops.new_withdrawal_code
    monkeypatch.setattr(consent_ops, "new_withdrawal_code", lambda: next(codes, None) or real())
    return KNOWN_CODE


@pytest.fixture
def piece(world: World, known_code) -> Piece:
    """A circle artwork with two revisions, signed with a pseudonym, markers everywhere."""
    contributor = world["contributor"]
    first = share(
        contributor,
        world.home,
        title=f"{MARKER} {DEVANAGARI_MARKER} garden",
        tags=(MARKER, DEVANAGARI_MARKER),
        body=f"Words of {MARKER}",
        alt_text=f"A painting of {MARKER}",
        audience="circle",
        attribution="pseudonym",
        pseudonym=PSEUDONYM,
    )
    return revise(contributor, first, body=f"More words of {MARKER}")


def page_text(response) -> str:
    return html.unescape(text(response))


# --- the contributor, signed in ---------------------------------------------------------------


@pytest.mark.media_backends
def test_the_contributor_withdraws_once_sure(app, world, piece):
    client = world.viewers["contributor"].client
    page = client.get(f"{piece.url}/withdraw")
    assert page.status_code == 200 and piece.title in page_text(page)
    before = snapshot(app, piece)

    not_sure = withdraw_signed_in(client, piece, sure=False)

    assert not_sure.status_code == 422
    assert snapshot(app, piece) == before

    done = withdraw_signed_in(client, piece)

    assert done.status_code == 200
    assert "It has been taken back" in page_text(done)
    assert_erased(app, piece, "contributor")
    assert events_of(piece, "withdrawn")[0].change == {"audience": ["circle", None]}
    assert client.get(piece.url).status_code == 410


@pytest.mark.media_backends
def test_withdrawing_again_says_so_and_changes_nothing(app, world, piece):
    client = world.viewers["contributor"].client
    assert withdraw_signed_in(client, piece).status_code == 200
    after = snapshot(app, piece)

    again = client.post_form(f"{piece.url}/withdraw", {"sure": "y"}, page="/")

    assert again.status_code == 410
    assert "The person who shared it has taken it back." in page_text(again)
    assert snapshot(app, piece) == after


# --- a facilitator, on the contributor's request ----------------------------------------------


@pytest.mark.media_backends
def test_a_facilitator_withdraws_with_a_reason(app, world, piece):
    client = world.viewers["facilitator"].client
    page = client.get(f"{piece.url}/withdraw")
    assert page.status_code == 200 and 'name="reason"' in text(page)
    before = snapshot(app, piece)

    no_reason = withdraw_signed_in(client, piece)

    assert no_reason.status_code == 422
    assert "Please say how the contributor asked for this." in page_text(no_reason)
    assert snapshot(app, piece) == before

    done = withdraw_signed_in(client, piece, reason="in-person")

    assert done.status_code == 200
    assert_erased(app, piece, "facilitator")
    withdrawn = events_of(piece, "withdrawn")[0]
    assert withdrawn.change["reason"] == "in-person"
    assert withdrawn.actor_id == world["facilitator"].id


def test_a_facilitator_withdraws_for_someone_without_an_account(app, world):
    from archive.db import commit
    from archive.operations.items import create_profile

    facilitator = world["facilitator"]
    profile = create_profile(facilitator, world.home, PSEUDONYM)
    commit()
    piece = share(
        facilitator,
        world.home,
        title=f"{MARKER} told in a session",
        contributor=profile,
        method="verbal",
        audience="private",
        attribution="pseudonym",
        pseudonym=PSEUDONYM,
    )
    client = world.viewers["facilitator"].client
    assert client.get(piece.url).status_code == 200, "the steward sees it"

    done = withdraw_signed_in(client, piece, reason="in-person")

    assert done.status_code == 200
    assert_erased(app, piece, "facilitator")


@pytest.mark.any_database
@pytest.mark.parametrize("who", ["other facilitator", "member", "stranger"])
def test_nobody_else_can_withdraw(app, world, piece, who):
    """A facilitator of another circle, a member who may read it, someone from elsewhere:
    404 (nothing revealed), and nothing changes."""
    client = world.viewers[who].client
    before = snapshot(app, piece)

    assert client.get(f"{piece.url}/withdraw").status_code == 404
    response = client.post_form(
        f"{piece.url}/withdraw", {"sure": "y", "reason": "in-person"}, page="/"
    )

    assert response.status_code == 404
    assert snapshot(app, piece) == before


# --- anyone holding the code ------------------------------------------------------------------


@pytest.mark.any_database
@pytest.mark.parametrize(
    "typed",
    [
        KNOWN_CODE,
        KNOWN_CODE.lower(),
        KNOWN_CODE.replace("-", " "),
        KNOWN_CODE.replace("0", "O"),
        KNOWN_CODE.lower().replace("-", "  ").replace("0", "o").replace("1", "l"),
    ],
    ids=["as printed", "lower case", "spaces", "O for 0", "all at once"],
)
def test_the_code_door_in_two_steps(app, world, piece, make_client, typed):
    client = make_client()
    assert client.get("/withdraw").status_code == 200

    confirm = enter_code(client, typed)

    assert confirm.status_code == 200
    assert piece.title in page_text(confirm), "the confirm page names the piece"
    assert piece.item().state == "active", "entering the code alone erases nothing"

    done = confirm_code(client, text(confirm))

    assert done.status_code == 303 and done.headers["Location"] == "/withdrawn"
    done = client.get(done.headers["Location"])
    assert "It has been taken back" in page_text(done)
    assert_erased(app, piece, "code")
    assert events_of(piece, "withdrawn")[0].actor_id is None


def _without_secrets(page: str) -> str:
    """The page apart from its CSRF tokens and the code echoed back into the field."""
    page = re.sub(
        r'(name="csrf_token" type="hidden" value=|'
        r'type="hidden" name="csrf_token" value=)"[^"]*"',
        "CSRF",
        page,
    )
    return re.sub(r'(<input[^>]*name="code"[^>]*value=)"[^"]*"', r'\1"CODE"', page)


@pytest.mark.any_database
def test_wrong_malformed_and_used_codes_all_get_the_same_answer(app, world, piece, make_client):
    withdrawer = make_client()
    assert (
        confirm_code(
            withdrawer, text(enter_code(withdrawer, KNOWN_CODE)), follow_redirects=True
        ).status_code
        == 200
    )
    client = make_client()
    answers = {}
    for name, code in {
        "wrong": "ABCD-EFGH-JKMN-PQRS-TVWX",
        "malformed": "hello-world",
        "too short": "70K1-M0AB",
        "used": KNOWN_CODE,
    }.items():
        response = enter_code(client, code)
        assert response.status_code == 422, name
        assert GENERIC in page_text(response), name
        answers[name] = _without_secrets(text(response))

    assert len(set(answers.values())) == 1, "the answers differ: they reveal something"
    assert MARKER not in answers["used"] and PSEUDONYM not in answers["used"]


@pytest.mark.any_database
def test_a_tampered_confirm_step_gets_the_same_answer(app, world, piece, make_client):
    client = make_client()
    page = text(enter_code(client, KNOWN_CODE))
    before = snapshot(app, piece)

    response = confirm_code(client, page.replace(KNOWN_CODE, "ABCD-EFGH-JKMN-PQRS-TVWX"))

    assert response.status_code == 302
    assert GENERIC in page_text(client.get(response.headers["Location"]))
    assert snapshot(app, piece) == before


@pytest.mark.any_database
def test_the_code_pages_are_never_stored_by_a_cache(app, world, piece, make_client):
    """The confirm page names a piece that may be private; the form carries a CSRF token."""
    client = make_client()
    assert client.get("/withdraw").headers["Cache-Control"] == "no-store"
    assert enter_code(client, KNOWN_CODE).headers["Cache-Control"] == "no-store"
    assert enter_code(client, "hello").headers["Cache-Control"] == "no-store"


@pytest.mark.any_database
def test_code_entry_is_rate_limited(make_app):
    app = make_app(CODE_RATE_LIMIT="3 per minute")
    client = BrowserLikeClient(app.test_client())
    for _attempt in range(3):
        assert enter_code(client, "ABCD-EFGH-JKMN-PQRS-TVWX").status_code == 422

    blocked = enter_code(client, "ABCD-EFGH-JKMN-PQRS-TVWX")

    assert blocked.status_code == 429
    page = page_text(blocked)
    assert "Please wait a little" in page and "Try again in a few minutes" in page
    assert "Traceback" not in page and "<main" in page


# --- the JSON API -----------------------------------------------------------------------------


def api_withdraw(world, who: str, piece: Piece, body: dict | None = None):
    viewer = world.viewers[who]
    return viewer.client.post(
        f"/api/v1/items/{piece.public_id}/withdraw", headers=viewer.headers, json=body or {}
    )


@pytest.mark.any_database
@pytest.mark.media_backends
def test_the_contributor_withdraws_through_the_api(app, world, piece):
    response = api_withdraw(world, "contributor", piece)

    assert response.status_code == 200
    assert response.get_json() == {"id": piece.public_id, "state": "withdrawn"}
    assert_erased(app, piece, "contributor")
    after = snapshot(app, piece)

    again = api_withdraw(world, "contributor", piece)

    assert again.status_code == 410
    assert again.get_json()["error"]
    assert snapshot(app, piece) == after


def test_a_facilitator_withdraws_through_the_api_with_a_reason(app, world, piece):
    before = snapshot(app, piece)
    refused = api_withdraw(world, "facilitator", piece)
    assert refused.status_code == 409 and refused.get_json()["field"] == "reason"
    assert snapshot(app, piece) == before

    response = api_withdraw(world, "facilitator", piece, {"reason": "in-writing"})

    assert response.status_code == 200
    assert_erased(app, piece, "facilitator")
    assert events_of(piece, "withdrawn")[0].change["reason"] == "in-writing"


@pytest.mark.any_database
@pytest.mark.parametrize(
    "who, status",
    [("member", 404), ("other facilitator", 404), ("stranger", 404), ("anonymous", 401)],
)
def test_nobody_else_withdraws_through_the_api(app, world, piece, who, status):
    before = snapshot(app, piece)
    response = api_withdraw(world, who, piece, {"reason": "in-person"})
    assert response.status_code == status
    assert snapshot(app, piece) == before


# --- the command line -------------------------------------------------------------------------


@pytest.mark.any_database
@pytest.mark.media_backends
def test_the_cli_withdraws_on_request(app, world, piece):
    runner = app.test_cli_runner()
    args = ["items", "withdraw", piece.public_id, "--by", world["facilitator"].username]
    before = snapshot(app, piece)

    no_reason = runner.invoke(args=args)
    assert no_reason.exit_code != 0
    assert "Please say how the contributor asked for this." in no_reason.output
    assert snapshot(app, piece) == before

    result = runner.invoke(args=[*args, "--reason", "in-person"])

    assert result.exit_code == 0, result.output
    assert f"withdrawn: {piece.public_id}" in result.output
    assert_erased(app, piece, "facilitator")
    after = snapshot(app, piece)

    again = runner.invoke(args=[*args, "--reason", "in-person"])

    assert again.exit_code != 0
    assert "already" in again.output and "withdrawn" in again.output
    assert snapshot(app, piece) == after


@pytest.mark.any_database
def test_the_cli_refuses_someone_who_may_not_act(app, world, piece):
    before = snapshot(app, piece)
    result = app.test_cli_runner().invoke(
        args=[
            "items",
            "withdraw",
            piece.public_id,
            "--by",
            world["other facilitator"].username,
            "--reason",
            "in-person",
        ]
    )
    assert result.exit_code != 0
    assert snapshot(app, piece) == before


# --- changing consent -------------------------------------------------------------------------


@pytest.fixture
def public_piece(world) -> Piece:
    return share(
        world["contributor"],
        world.home,
        title=f"{MARKER} kite",
        tags=("patang",),
        audience="public",
        attribution="pseudonym",
        pseudonym=PSEUDONYM,
    )


def consent_of(piece: Piece) -> Consent:
    return piece.item().consent


def test_the_contributor_narrows(app, world, public_piece):
    response = change_consent(world.viewers["contributor"].client, public_piece, audience="circle")

    assert response.status_code == 302
    assert consent_of(public_piece).audience == "circle"
    changed = events_of(public_piece, "changed")
    assert [(e.change, e.actor_role) for e in changed] == [
        ({"audience": ["public", "circle"]}, "contributor")
    ]
    assert world.viewers["anonymous"].client.get(public_piece.url).status_code == 404
    assert world.viewers["member"].client.get(public_piece.url).status_code == 200
    assert [
        line["change"]
        for line in ledger_file_lines(app, public_piece)
        if line["event"] == "changed"
    ] == [{"audience": ["public", "circle"]}]


@pytest.mark.any_database
def test_a_facilitator_narrows_on_request_with_a_reason(app, world, public_piece):
    client = world.viewers["facilitator"].client
    before = snapshot(app, public_piece)

    no_reason = change_consent(client, public_piece, audience="circle")

    assert no_reason.status_code == 422
    assert "Please say how the contributor asked for this." in page_text(no_reason)
    assert snapshot(app, public_piece) == before

    done = change_consent(client, public_piece, audience="circle", reason="phone-or-message")

    assert done.status_code == 302
    assert consent_of(public_piece).audience == "circle"
    event = events_of(public_piece, "changed")[0]
    assert event.actor_role == "facilitator" and event.actor_id == world["facilitator"].id
    assert event.change == {"audience": ["public", "circle"], "reason": "phone-or-message"}


@pytest.mark.any_database
@pytest.mark.parametrize(
    "widening",
    [
        {"audience": "public"},
        {"attribution": "name"},
        {"collections": True},
        {"embeds": True},
        {"packs": True},
    ],
    ids=lambda w: next(iter(w)),
)
def test_a_facilitator_never_widens_for_a_contributor_with_an_account(app, world, widening):
    piece = share(
        world["contributor"],
        world.home,
        title=f"{MARKER} kite",
        tags=("patang",),
        audience="circle",
        attribution="pseudonym",
        pseudonym=PSEUDONYM,
    )
    before = snapshot(app, piece)

    response = change_consent(
        world.viewers["facilitator"].client, piece, reason="in-person", **widening
    )

    assert response.status_code == 422
    assert "Only the person who shared it can" in page_text(response)
    assert snapshot(app, piece) == before


def test_the_ledger_keeps_values_for_choices_and_only_changed_for_a_pseudonym(
    app, world, public_piece
):
    response = change_consent(
        world.viewers["contributor"].client,
        public_piece,
        audience="circle",
        pseudonym="zqxnewname",
        collections=True,
        content_notes=["grief"],
    )

    assert response.status_code == 302
    change = events_of(public_piece, "changed")[0].change
    assert change == {
        "audience": ["public", "circle"],
        "pseudonym": "changed",
        "allow_collections": [False, True],
        "content_notes": [[], ["grief"]],
    }
    for stored in (
        json.dumps(events_of(public_piece, "changed")[0].change, ensure_ascii=False),
        str(ledger_file_lines(app, public_piece)),
    ):
        assert PSEUDONYM not in stored and "zqxnewname" not in stored
    assert consent_of(public_piece).pseudonym == "zqxnewname"


def test_a_passed_review_date_asks_the_contributor_and_hides_it_from_others(
    app, world, public_piece
):
    consent = consent_of(public_piece)
    consent.review_by = access.today() - timedelta(days=1)
    db.session.commit()
    others = ("facilitator", "member", "stranger", "anonymous")

    own = world.viewers["contributor"].client.get(public_piece.url)
    assert own.status_code == 200 and "Please confirm" in page_text(own)
    for who in others:
        assert world.viewers[who].client.get(public_piece.url).status_code == 404, who

    confirmed = world.viewers["contributor"].client.post_form(
        f"{public_piece.url}/consent/confirm", {"review_by": ""}, page=public_piece.url
    )

    assert confirmed.status_code == 302
    assert consent_of(public_piece).review_by is None
    for who in others:
        assert world.viewers[who].client.get(public_piece.url).status_code == 200, who
    again = world.viewers["contributor"].client.get(public_piece.url)
    assert "Please confirm" not in page_text(again)
    assert [e.change for e in events_of(public_piece, "confirmed")] == [
        {"review_by": [(access.today() - timedelta(days=1)).isoformat(), None]}
    ]


@pytest.mark.any_database
def test_only_those_who_act_on_consent_may_confirm(app, world, public_piece):
    consent = consent_of(public_piece)
    consent.review_by = access.today() - timedelta(days=1)
    db.session.commit()
    response = world.viewers["member"].client.post_form(
        f"{public_piece.url}/consent/confirm", {"review_by": ""}, page="/"
    )
    assert response.status_code == 404
    assert consent_of(public_piece).review_by is not None


# --- ledger pages -----------------------------------------------------------------------------


@pytest.mark.any_database
def test_the_ledger_pages(app, world, piece):
    members_piece = share(
        world["member"],
        world.home,
        title="A member's poem",
        kind="poem",
        tags=("kavita",),
        audience="circle",
    )
    hidden = share(
        world["member"],
        world.home,
        title="Only mine",
        kind="poem",
        tags=("diary",),
        audience="private",
    )
    elsewhere = share(
        world["stranger"],
        world.elsewhere,
        title="Far away",
        kind="poem",
        tags=("door",),
        audience="circle",
    )
    assert withdraw_signed_in(world.viewers["contributor"].client, piece).status_code == 200

    mine = world.viewers["contributor"].client.get("/account/ledger")
    assert mine.status_code == 200
    assert "taken back and erased" in page_text(mine)
    for other in (members_piece, hidden, elsewhere):
        assert other.public_id not in text(mine) and other.title not in page_text(mine)

    circle = world.viewers["facilitator"].client.get(f"/circles/{world.home.slug}/ledger")
    assert circle.status_code == 200
    assert members_piece.public_id in text(circle) and "A member's poem" in page_text(circle)
    for unseen in (hidden, elsewhere):  # a member's private piece: not even its id
        assert unseen.public_id not in text(circle) and unseen.title not in page_text(circle)
    for page in (mine, circle):
        assert piece.public_id not in text(page)  # taken back: no id, no title
        for secret in (MARKER, DEVANAGARI_MARKER, PSEUDONYM):
            assert secret not in page_text(page)

    for who in ("member", "stranger", "other facilitator", "contributor"):
        url = f"/circles/{world.home.slug}/ledger"
        assert world.viewers[who].client.get(url).status_code == 404, who
    anonymous = world.viewers["anonymous"].client
    for url in ("/account/ledger", f"/circles/{world.home.slug}/ledger"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# --- receipts ---------------------------------------------------------------------------------


def code_forms(code: str) -> list[str]:
    return [code, code.replace("-", ""), code.lower(), code.replace("-", " ")]


@pytest.mark.any_database
def test_the_receipt_page_and_json_never_hold_the_code(app, world, piece):
    for who in ("contributor", "facilitator"):
        client = world.viewers[who].client
        page = client.get(f"{piece.url}/receipt")
        assert page.status_code == 200
        receipt_id = consent_of(piece).receipt_id
        assert receipt_id in text(page)
        as_json = client.get(f"{piece.url}/receipt.json")
        assert as_json.status_code == 200
        for body in (text(page), text(as_json)):
            for form in code_forms(piece.code):
                assert form not in body

    receipt = as_json.get_json()
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["consentReceiptID"] == receipt_id
    assert isinstance(receipt["consentTimestamp"], int)
    assert receipt["collectionMethod"] and receipt["language"] == "en"
    purposes = receipt["services"][0]["purposes"]
    assert piece.public_id in receipt["services"][0]["service"]
    assert purposes and all(p["consentType"] == "EXPLICIT" for p in purposes)
    assert receipt["piiPrincipalId"] == PSEUDONYM
    assert receipt["withdrawal"]["url"].endswith("/withdraw")


@pytest.mark.any_database
@pytest.mark.parametrize("who", ["member", "stranger", "other facilitator"])
def test_receipts_are_for_those_who_act_on_consent(app, world, piece, who):
    client = world.viewers[who].client
    assert client.get(f"{piece.url}/receipt").status_code == 404
    assert client.get(f"{piece.url}/receipt.json").status_code == 404
