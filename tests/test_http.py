"""HTTP as clients expect it of every page: a 405 says which methods the address does answer
(``Allow``), ``HEAD`` answers wherever ``GET`` does and sends no body, and every main page's
HTML is well-tied: unique ids, labels naming a field, ``aria-describedby`` and
``aria-labelledby`` naming an element of the page.

The main pages are those the accessibility tests open (tests/browser/a11y/pages.py), on the
same seeded site, fetched with the test client and read with ``html.parser``: no browser."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Optional

import pytest
from sqlalchemy import select
from werkzeug.routing.converters import NumberConverter

from archive import create_app
from archive.db import db
from archive.models import Account
from tests.browser.a11y.conftest import seed
from tests.browser.a11y.pages import MAIN_PAGES
from tests.conftest import PASSWORD, BrowserLikeClient, config_for_tests, hold_receipt_code

LABELLABLE = {"input", "select", "textarea", "button", "meter", "output", "progress"}


class Ties(HTMLParser):
    """The ids of a page, the ``for`` of its labels and the ids its ARIA attributes name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.fields: set[str] = set()
        self.label_for: list[str] = []
        self.named: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if found.get("id"):
            self.ids[found["id"]] += 1
            if tag in LABELLABLE and found.get("type") != "hidden":
                self.fields.add(found["id"])
        if tag == "label" and found.get("for") is not None:
            self.label_for.append(found["for"] or "")
        for name in ("aria-describedby", "aria-labelledby"):
            for target in (found.get(name) or "").split():
                self.named.append((name, target))

    handle_startendtag = handle_starttag

    def problems(self) -> list[str]:
        return (
            [f"id {name!r} is given {n} times" for name, n in self.ids.items() if n > 1]
            + [
                f"<label for={name!r}> names no field"
                for name in self.label_for
                if name not in self.fields
            ]
            + [
                f"{attr} names {target!r}, which is not on the page"
                for attr, target in self.named
                if target not in self.ids
            ]
        )


def ties_of(html: str) -> list[str]:
    parser = Ties()
    parser.feed(html)
    parser.close()
    return parser.problems()


class Seeded:
    def __init__(self, app, ids: dict) -> None:
        self.app = app
        for name, value in ids.items():
            setattr(self, name, value)

    def client(self, who=None) -> BrowserLikeClient:
        client = BrowserLikeClient(self.app.test_client())
        if who is not None:
            answer = client.post_form("/sign-in", {"username": who, "password": PASSWORD})
            assert answer.status_code == 302
        return client


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = create_app(
        config_for_tests(tmp_path_factory.mktemp("http"), CODE_RATE_LIMIT="1000 per minute")
    )
    with app.app_context():
        db.create_all()
    return Seeded(app, seed(app))


@dataclass(frozen=True)
class Page:
    name: str
    who: Optional[str]
    path: Callable  # site -> path
    send: Optional[Callable] = None  # site -> the form's fields, sent from the page at path
    to: str = ""  # where the form goes, when not back to its own page
    status: int = 200


#: what each main page reached by sending a form sends (the a11y tests fill it in)
SENT = {
    "contribute-errors": lambda s: {"title": "", "kind": "artwork"},
    "sign-in-error": lambda s: {"username": "asha", "password": "not the password"},
    "withdraw-code-confirm": lambda s: {"code": s.poem_code},
}
PAGES = [
    Page(page.name, page.who, page.path, SENT.get(page.name), status=page.status)
    for page in MAIN_PAGES
] + [  # and more pages with several forms, or with a form's errors
    Page("account", "asha", lambda s: "/account"),
    Page(
        "account-errors",
        "asha",
        lambda s: "/account",
        lambda s: {"token-current_password": "no"},
        "/account/tokens",
        422,
    ),
    Page("edit-piece", "asha", lambda s: f"/items/{s.poem}/edit"),
    Page("members", "meera", lambda s: "/circles/ghar/members"),
    Page("new-collection", "meera", lambda s: "/circles/ghar/collections/new"),
    Page(
        "new-collection-errors",
        "meera",
        lambda s: "/circles/ghar/collections/new",
        lambda s: {"title": "", "slug": "?"},
        status=422,
    ),
]


def test_every_main_page_has_unique_ids_and_ties_labels_and_aria_to_the_page(site):
    assert set(SENT) == {page.name for page in MAIN_PAGES if page.then is not None}
    clients: dict = {}
    problems = []
    for page in PAGES:
        client = clients.get(page.who) or clients.setdefault(page.who, site.client(page.who))
        path = page.path(site)
        if page.send is None:
            answer = client.get(path)
        else:
            answer = client.post_form(page.to or path, page.send(site), page=path)
        assert answer.status_code == page.status, (page.name, answer.status_code)
        problems += [f"{page.name}: {p}" for p in ties_of(answer.get_data(as_text=True))]
    assert not problems, "\n".join(problems)


def _path(rule) -> str:
    """An address the rule matches, its variables filled with something of their type."""
    values = {
        name: 1 if isinstance(converter, NumberConverter) else "x"
        for name, converter in rule._converters.items()
    }
    built = rule.build(values, append_unknown=False)
    assert built is not None, rule.rule
    return built[1]


def test_every_address_answers_a_method_it_does_not_take_with_405_and_allow(site):
    adapter = site.app.url_map.bind("localhost")
    client = site.app.test_client()
    paths = {_path(rule) for rule in site.app.url_map.iter_rules()}
    assert len(paths) > 60
    wrong = []
    for path in sorted(paths):
        allowed = set(adapter.allowed_methods(path))
        assert "GET" not in allowed or "HEAD" in allowed, path
        method = next(m for m in ("PUT", "DELETE", "PATCH", "POST") if m not in allowed)
        answer = client.open(path, method=method)
        given = {m.strip() for m in answer.headers.get("Allow", "").split(",") if m.strip()}
        if answer.status_code != 405 or given != allowed:
            wrong.append(f"{method} {path}: {answer.status_code}, Allow {sorted(given)}")
        elif path.startswith("/api/") and answer.json is None:
            wrong.append(f"{method} {path}: the 405 is not JSON")
    assert not wrong, "\n".join(wrong)


#: answers beyond the main pages, some streamed or counted: (who, path)
MORE_GETS = [
    (None, lambda s: "/feeds/public.atom"),
    (None, lambda s: "/collections/screen-time/feed.atom"),
    (None, lambda s: "/collections/screen-time/pack.zip"),
    (None, lambda s: "/sitemap.xml"),
    (None, lambda s: "/robots.txt"),
    (None, lambda s: "/healthz"),
    (None, lambda s: f"/embed/items/{s.knowhow}"),
    (None, lambda s: f"/api/v1/items/{s.knowhow}"),
    (None, lambda s: "/api/v1/search?q=bedtime"),
    (None, lambda s: "/api/v1/openapi.json"),
    ("asha", lambda s: "/account/export"),
    ("asha", lambda s: f"/items/{s.poem}/receipt.txt"),
    ("asha", lambda s: f"/items/{s.poem}/versions/1"),
    ("meera", lambda s: "/circles/ghar/ledger"),
]
MEDIA = re.compile(r'src="(/media/[^"]+)"')


def test_head_answers_as_get_does_without_a_body(site):
    """Same status and type, no body, and nothing used up: the page still answers after."""
    clients = {who: site.client(who) for who in (None, "asha", "meera")}
    artwork = clients[None].get(f"/items/{site.artwork_plain}").get_data(as_text=True)
    media = MEDIA.findall(artwork)
    assert media, "the artwork's page shows no picture"
    asked = [(page.who, page.path(site)) for page in MAIN_PAGES if page.then is None]
    asked += [(who, path(site)) for who, path in MORE_GETS] + [(None, media[0])]
    with site.app.app_context():
        asha = db.session.scalar(select(Account.id).where(Account.username == "asha"))
    hold_receipt_code(clients["asha"], asha, site.poem, site.poem_code)
    wrong = []
    for who, path in asked:
        with clients[who].head(path) as head, clients[who].get(path) as got:
            wrong += _unlike(path, head, got, media[0])
    assert not wrong, "\n".join(wrong)


def _unlike(path: str, head, got, media: str) -> list[str]:
    if (head.status_code, head.mimetype) != (got.status_code, got.mimetype) or head.data:
        return [
            f"{path}: HEAD {head.status_code} {head.mimetype} {len(head.data)} bytes, "
            f"GET {got.status_code} {got.mimetype}"
        ]
    if got.status_code != 200:
        return [f"{path}: {got.status_code}"]
    if path == media and head.content_length != len(got.data):
        return [f"{path}: HEAD says {head.content_length} bytes, GET sends {len(got.data)}"]
    return []
