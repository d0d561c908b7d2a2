"""A site that keeps its secrets on its own machine: owner-only files, logs without tokens or
words, sessions and tokens that end together, no caching of bearer answers, numbers out of
range, one canonical address, and bylines kept current in the search index."""

from __future__ import annotations

import logging
import os
import re
import stat
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import unquote

import pytest

from archive import create_app
from archive.backup import backup
from archive.db import db
from archive.operations.accounts import create_account
from archive.operations.circles import add_member, create_circle
from tests.conftest import PASSWORD, config_for_tests
from tests.public_helpers import offer

# --- 1. private by default on disk -----------------------------------------------------------


@pytest.fixture
def loose_umask():
    """The umask a shell usually starts with; the app must not rely on it."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def _open_to_others(paths) -> list[str]:
    loose = []
    for path in paths:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            loose.append(f"{path} {mode:o}")
    return loose


def _tree(root: Path) -> list[Path]:
    return [root, *root.rglob("*")]


def test_a_fresh_site_its_writes_and_backups_are_the_owners_alone(loose_umask, tmp_path):
    config = config_for_tests(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db' / 'site.db'}")
    (tmp_path / "db").mkdir()
    app = create_app(config)
    with app.test_request_context():
        db.create_all()
        circle = create_circle("river-circle", "River circle")
        asha = create_account("asha", PASSWORD)
        add_member(circle, asha, "participant")
        offer(asha, circle, title="A poem about the river")
        backup(tmp_path / "backups" / "today")
        database = tmp_path / "db" / "site.db"
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        assert all(path.exists() for path in files)
        watched = [
            *files,
            *_tree(tmp_path / "instance"),
            *_tree(tmp_path / "index"),
            *_tree(tmp_path / "backups" / "today"),
        ]
        assert len(list((tmp_path / "index").iterdir())) > 1
        assert _open_to_others(watched) == []
        db.session.remove()


def test_an_older_site_is_tightened_at_start_up(loose_umask, tmp_path):
    instance, index = tmp_path / "instance", tmp_path / "index"
    (instance / "packs").mkdir(parents=True)
    index.mkdir()
    database = instance / "archive.sqlite3"
    for path in (
        database,
        Path(f"{database}-wal"),
        instance / "secret_key",
        instance / "packs" / "old.zip",
        index / "_MAIN_1.toc",
    ):
        path.write_text("x")
        path.chmod(0o644)
    for folder in (instance, instance / "packs", index):
        folder.chmod(0o755)
    config = config_for_tests(tmp_path, DATABASE_URL=f"sqlite:///{database}")
    create_app(config)
    assert _open_to_others([*_tree(instance), *_tree(index)]) == []
    assert stat.S_IMODE((instance / "packs" / "old.zip").stat().st_mode) == 0o600
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700


def test_the_umask_stays_owner_only_after_the_app_is_built(loose_umask, tmp_path):
    create_app(config_for_tests(tmp_path))
    made = tmp_path / "made-later"
    made.write_text("x")
    assert stat.S_IMODE(made.stat().st_mode) == 0o600


# --- 2. logs that keep nothing secret --------------------------------------------------------

TOKEN, WORD, QUERY = "zqxtoken4invite", "zqxsadness", "zqxquery"
SECRET_REQUESTS = [
    ("GET", f"/join/{TOKEN}", ""),
    ("POST", f"/join/{TOKEN}", ""),
    ("GET", f"/shared/{TOKEN}", ""),
    ("GET", f"/tags/{WORD}", "page=2"),
    ("GET", "/tags/उदासी", ""),
    ("GET", "/search", f"q={QUERY}"),
    ("GET", f"/items/{TOKEN}/withdraw", ""),
    ("POST", f"/api/v1/items/{TOKEN}/withdraw", ""),
    ("GET", f"/items/{TOKEN}/receipt", ""),
    ("GET", "/withdraw", f"code={TOKEN}"),
    ("GET", f"/no-such-page/{WORD} words", f"next=/tags/{WORD}"),
]


@pytest.fixture
def access_log():
    """gunicorn's logger as scripts/serve configures it, writing into a list of lines."""
    from gunicorn.config import Config

    from archive import serving

    config = Config()
    for name in ("logger_class", "access_log_format"):
        config.set(name, getattr(serving, name))
    config.set("accesslog", "-")
    assert config.logger_class is serving.AccessLog
    logger = config.logger_class(config)
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    saved = {log: log.handlers[:] for log in (logger.access_log, logger.error_log)}
    for log in saved:
        log.handlers = [Collect()]
    yield logger, lines
    for log, handlers in saved.items():
        log.handlers = handlers


def _log_request(logger, method, path, query, status="200 OK"):
    from datetime import timedelta
    from types import SimpleNamespace

    raw = path + (f"?{query}" if query else "")
    environ = {
        "REQUEST_METHOD": method,
        "RAW_URI": raw,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://example.org{raw}",
        "HTTP_USER_AGENT": "phone",
    }
    request = SimpleNamespace(
        headers=[("AUTHORIZATION", f"Bearer {TOKEN}"), ("REFERER", f"https://example.org{raw}")]
    )
    response = SimpleNamespace(status=status, sent=1234, headers=[("Location", raw)])
    logger.access(response, request, environ, timedelta(milliseconds=12))


def test_the_access_log_keeps_no_token_word_or_query(access_log):
    logger, lines = access_log
    for method, path, query in SECRET_REQUESTS:
        _log_request(logger, method, path, query)
    text = "\n".join(lines)
    assert len(lines) == len(SECRET_REQUESTS)
    for secret in (TOKEN, WORD, QUERY, "उदासी", "?", "page=", "203.0.113.9", "phone", "Bearer"):
        assert secret not in text
    for shown in (
        '"GET /join/…"',
        '"POST /join/…"',
        '"GET /shared/…"',
        '"GET /tags/…"',
        '"GET /search"',
        '"GET /items/…/withdraw"',
        '"POST /api/v1/items/…/withdraw"',
        '"GET /items/…/receipt"',
        '"GET /withdraw"',
        '"GET /no-such-page/…"',
    ):
        assert shown in text
    assert all(" 200 0.012000s" in line for line in lines)


def test_even_a_format_asking_for_more_gets_nothing_secret(access_log):
    logger, lines = access_log
    logger.cfg.set(
        "access_log_format",
        "%(h)s %(r)s %(q)s %(f)s %(a)s %({authorization}i)s %({location}o)s %(U)s",
    )
    for method, path, query in SECRET_REQUESTS:
        _log_request(logger, method, path, query)
    text = "\n".join(lines)
    for secret in (TOKEN, WORD, QUERY, "उदासी", "203.0.113.9", "Bearer"):
        assert secret not in text


def test_gunicorns_own_errors_about_a_request_are_scrubbed(access_log):
    logger, lines = access_log
    logger.exception("Error handling request %s", f"/join/{TOKEN}?next=/tags/{WORD}")
    logger.warning(f"Invalid request from ip=203.0.113.9: GET /tags/{WORD}?q={QUERY}")
    text = "\n".join(lines)
    assert TOKEN not in text and WORD not in text and QUERY not in text
    assert "/join/…" in text and "/tags/…" in text


def test_demo_passwords_are_kept_in_their_file_and_never_printed(tmp_path, caplog, capfd):
    app = create_app(config_for_tests(tmp_path, DEMO=True))
    with app.app_context(), caplog.at_level(logging.DEBUG):
        result = app.test_cli_runner().invoke(args=["setup"])
        db.session.remove()
    assert result.exit_code == 0, result.output
    sign_ins = tmp_path / "instance" / "demo-sign-ins.txt"
    assert stat.S_IMODE(sign_ins.stat().st_mode) == 0o600
    passwords = [line.split()[1] for line in sign_ins.read_text().splitlines() if line]
    assert len(passwords) >= 2
    printed = result.output + caplog.text + "".join(capfd.readouterr())
    assert str(sign_ins) in result.output
    for password in passwords:
        assert password not in printed


# --- 3. sessions and tokens end together -----------------------------------------------------

NEW_PASSWORD = "a new moon over the hills"


def _tokens_of(account, count: int) -> list[str]:
    from archive.operations.accounts import create_token

    made = [create_token(account, f"program {number}") for number in range(count)]
    db.session.commit()
    return made


def _working(tokens: list[str], client) -> list[str]:
    return [
        token
        for token in tokens
        if client.get(
            "/api/v1/search?q=river", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        != 401
    ]


def _signed_out(client) -> bool:
    response = client.get("/account")
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_a_password_change_ends_other_sessions_and_every_token(make_account, signed_in):
    account = make_account("lata")
    tokens = _tokens_of(account, 2)
    here, elsewhere = signed_in(account), signed_in(account)
    assert _working(tokens, here) == tokens

    response = here.post_form(
        "/account/password",
        {
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-new_password_again": NEW_PASSWORD,
        },
        page="/account",
    )

    assert response.status_code == 302
    page = here.get("/account").get_data(as_text=True)
    assert "Your password is changed. 2 API tokens and your other sessions were ended." in page
    assert _signed_out(elsewhere)
    assert _working(tokens, here) == []


def test_a_password_change_without_tokens_says_so_plainly(make_account, signed_in):
    here = signed_in(make_account("lata", locale="hi"))
    here.post_form(
        "/account/password",
        {
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-new_password_again": NEW_PASSWORD,
        },
        page="/account",
    )
    page = here.get("/account").get_data(as_text=True)
    assert "API" not in page.split("<main", 1)[1].split("</h1>", 1)[0]


def test_signing_out_everywhere_ends_every_session_and_token(make_account, signed_in):
    account = make_account("lata")
    tokens = _tokens_of(account, 1)
    here, elsewhere = signed_in(account), signed_in(account)

    response = here.post_form("/account/sign-out-everywhere", page="/account")

    assert response.status_code == 302
    home = here.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are signed out everywhere, and 1 API token was stopped." in home
    assert _signed_out(here) and _signed_out(elsewhere)
    assert _working(tokens, here) == []


def test_signing_out_everywhere_is_said_in_hindi(make_account, signed_in):
    account = make_account("lata", locale="hi")
    _tokens_of(account, 3)
    here = signed_in(account)
    response = here.post_form("/account/sign-out-everywhere", page="/account")
    text = here.get(response.headers["Location"]).get_data(as_text=True)
    assert "आप हर जगह से साइन आउट हो गए हैं, और 3 API टोकन बंद हो गए।" in text


def test_a_plain_sign_out_keeps_the_tokens(make_account, signed_in):
    account = make_account("lata")
    tokens = _tokens_of(account, 1)
    here = signed_in(account)
    here.post_form("/sign-out", page="/account")
    assert _working(tokens, here) == tokens


def test_set_password_on_the_command_line_ends_sessions_and_tokens(app, make_account, signed_in):
    account = make_account("lata")
    tokens = _tokens_of(account, 2)
    elsewhere = signed_in(account)
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "lata", "--password-stdin"], input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "2 API tokens stopped" in result.output
    assert _signed_out(elsewhere)
    assert _working(tokens, elsewhere) == []


def _account(username):
    from sqlalchemy import select

    from archive.models import Account

    db.session.expire_all()
    return db.session.scalar(select(Account).where(Account.username_key == username))


def _token_count() -> int:
    from sqlalchemy import func, select

    from archive.models import ApiToken

    return db.session.scalar(select(func.count()).select_from(ApiToken))


@pytest.mark.parametrize(
    "password, status, message",
    [
        ("", 422, "Please fill this in."),
        ("not my password at all", 422, "Your current password is not right."),
    ],
)
def test_a_token_is_made_only_with_the_current_password(
    make_account, signed_in, password, status, message
):
    here = signed_in(make_account("lata"))
    response = here.post_form(
        "/account/tokens",
        {"token-label": "stolen", "token-current_password": password},
        page="/account",
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert "la_" not in response.get_data(as_text=True)
    assert _token_count() == 0

    made = here.post_form(
        "/account/tokens",
        {"token-label": "mine", "token-current_password": PASSWORD},
        page="/account",
        follow_redirects=True,
    )
    assert made.status_code == 200 and "la_" in made.get_data(as_text=True)
    assert _token_count() == 1


def test_guessing_the_password_through_the_account_page_is_limited(make_app):
    from tests.conftest import BrowserLikeClient, sign_in

    app = make_app(LOGIN_RATE_LIMIT="4 per minute")
    with app.app_context():
        make = app.test_cli_runner().invoke
        assert (
            make(
                args=["users", "create", "lata", "--password-stdin"], input=PASSWORD + "\n"
            ).exit_code
            == 0
        )
    client = BrowserLikeClient(app.test_client())
    sign_in(client, "lata")
    guess = {"token-current_password": "is it this one"}
    answers = [
        client.post_form("/account/tokens", guess, page="/account").status_code for _ in range(5)
    ]
    assert answers[-1] == 429 and 422 in answers


# --- 4. answers to a bearer token are never stored -------------------------------------------


def test_every_answer_to_a_bearer_token_is_no_store(client, make_account, make_circle):
    from archive.operations.accounts import create_token

    circle = make_circle()
    asha = make_account("asha", circle=circle)
    private = offer(asha, circle, title="Only mine", audience="private")
    public = offer(asha, circle, title="For everyone", kind="artwork")
    token = create_token(asha)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    created = client.post(
        "/api/v1/items",
        headers=bearer,
        json={
            "kind": "poem",
            "title": "New",
            "body": "words",
            "language": "en",
            "circle": circle.slug,
            "consent": {"audience": "private"},
        },
    )
    assert created.status_code == 201 and "withdrawal_code" in created.get_data(as_text=True)
    answers = [created] + [
        client.get(path, headers=bearer)
        for path in (
            f"/api/v1/items/{private.public_id}",
            f"/api/v1/items/{public.public_id}",
            "/api/v1/search?q=mine",
            "/api/v1/collections",
            f"/items/{public.public_id}",
            "/static/style.css",
            "/api/v1/items/nothing-here",
            *public.media_urls,
        )
    ]
    answers.append(client.get("/api/v1/search?q=mine", headers={"Authorization": "Bearer no"}))
    for answer in answers:
        answer.close()
        assert answer.headers["Cache-Control"] == "no-store", answer.request.path
    anonymous = client.get(public.media_urls[0])
    anonymous.close()
    assert anonymous.headers["Cache-Control"] == "public, no-cache"


# --- 5. numbers out of range answer 404 or 422, never 500 ------------------------------------

HUGE = "99999999999999999999"


@pytest.fixture
def numbers_world(make_account, make_circle):
    from archive.operations.accounts import create_token

    circle = make_circle("river-circle")
    meera = make_account("meera", role="facilitator", circle=circle)
    asha = make_account("asha", circle=circle)
    piece = offer(asha, circle, title="River song")
    tokens = {"meera": create_token(meera), "asha": create_token(asha)}
    db.session.commit()
    return {"circle": circle, "meera": meera, "asha": asha, "piece": piece, "tokens": tokens}


@pytest.mark.parametrize(
    "path",
    [
        f"/tags/nadi?page={HUGE}",
        f"/search?q=river&page={HUGE}",
        f"/api/v1/search?q=river&page={HUGE}",
        f"/circles/river-circle?page={HUGE}",
        f"/tags/nadi?page=-{HUGE}",
    ],
)
def test_a_page_past_any_that_could_exist_is_not_found(numbers_world, signed_in, path):
    client = signed_in(numbers_world["asha"])
    response = client.get(path)
    assert response.status_code in (200, 404, 422), response.status_code
    if path.startswith("/api/"):  # past the document's maximum: refused as it says
        assert response.status_code == 422
    elif HUGE in path.replace(f"-{HUGE}", ""):
        assert response.status_code == 404


@pytest.mark.parametrize("path", ["/tags/nadi?page=2", "/tags/nadi?page=abc", "/search?q=river"])
def test_ordinary_pages_still_open(numbers_world, signed_in, path):
    assert signed_in(numbers_world["asha"]).get(path).status_code == 200


def test_other_numbers_out_of_range(numbers_world, signed_in, client):
    piece, bearer = (
        numbers_world["piece"],
        {"Authorization": f"Bearer {numbers_world['tokens']['asha']}"},
    )
    for path in (
        f"/items/{piece.public_id}/diff?from={HUGE}&to=1",
        f"/api/v1/items/{piece.public_id}/diff?from={HUGE}&to=1",
        f"/items/{piece.public_id}/versions/{HUGE}",
    ):
        assert client.get(path, headers=bearer).status_code == 404, path
    oembed = client.get(f"/oembed?url=http://localhost/items/{piece.public_id}&maxwidth={HUGE}")
    assert oembed.status_code == 200
    edit = client.post(
        f"/api/v1/items/{piece.public_id}/revisions",
        headers=bearer,
        json={"title": "River song again", "base_revision": 2**70},
    )
    assert edit.status_code in (409, 422), edit.status_code


def test_an_api_profile_number_out_of_range_is_refused(numbers_world, client):
    bearer = {"Authorization": f"Bearer {numbers_world['tokens']['meera']}"}
    for profile in (2**70, -(2**70), True):
        response = client.post(
            "/api/v1/items",
            headers=bearer,
            json={
                "kind": "poem",
                "title": "For someone",
                "body": "words",
                "language": "en",
                "circle": "river-circle",
                "contributor": {"profile": profile},
                "consent": {"audience": "private"},
            },
        )
        assert response.status_code in (403, 422), (profile, response.status_code)


def test_a_web_contributor_number_out_of_range_is_refused(numbers_world, signed_in):
    client = signed_in(numbers_world["meera"])
    for choice in (f"profile:{HUGE}", f"account:{HUGE}", "profile:x"):
        response = client.post_form(
            "/circles/river-circle/contribute?kind=poem",
            {
                "contributor": choice,
                "title": "For someone",
                "body": "words",
                "language": "en",
                "audience": "private",
                "attribution": "anonymous",
                "method": "verbal-recorded",
            },
        )
        assert response.status_code == 422, (choice, response.status_code)


def test_a_session_naming_an_impossible_account_is_no_one(app):
    from archive.web.auth import load_account

    with app.test_request_context():
        assert load_account(f"{HUGE}:1") is None
        assert load_account("١:1") is None


def test_revoking_a_token_number_out_of_range_is_a_clean_error(app, numbers_world):
    result = app.test_cli_runner().invoke(args=["tokens", "revoke", "asha", HUGE])
    assert result.exit_code != 0
    assert "Traceback" not in result.output and "not found" in result.output


@pytest.mark.parametrize(
    "value, number",
    [
        (1, 1),
        ("42", 42),
        (" 7 ", 7),
        (2**63 - 1, 2**63 - 1),
        (2**63, None),
        (HUGE, None),
        (0, None),
        (-3, None),
        ("-3", None),
        (True, None),
        ("١", None),
        ("1e3", None),
        (None, None),
        (1.0, None),
    ],
)
def test_db_int(value, number):
    from archive.numbers import db_int

    assert db_int(value) == number


# --- 6. one canonical address ----------------------------------------------------------------

BASE = "https://archive.example.org"
URL = re.compile(r"https?://[^\s\"'<>\\&]+")
#: XML namespaces (names, not links) and the share button, which carries the page's address
NOT_OURS = (
    "http://www.w3.org/",
    "http://www.sitemaps.org/",
    "https://oembed.com",
    "https://wa.me/",
)


def _links(text: str) -> list[str]:
    shared = [
        unquote(url.partition("%20http")[2])
        for url in URL.findall(text)
        if url.startswith("https://wa.me/")
    ]
    return [url for url in URL.findall(text) if not url.startswith(NOT_OURS)] + [
        "http" + url for url in shared
    ]


@pytest.fixture
def based(make_app):
    """A site whose address is ``BASE`` (or another, by calling it), with a public piece, a
    public collection, a member, a facilitator."""
    from archive.db import commit
    from archive.operations.circles import add_member, create_circle
    from tests.public_helpers import curate

    contexts = ExitStack()

    def build(base_url=BASE, **config):
        app = make_app(BASE_URL=base_url, **config) if base_url else make_app(**config)
        contexts.enter_context(app.app_context())
        with app.test_request_context():
            circle = create_circle("river-circle", "River circle")
            meera = create_account("meera", PASSWORD, "facilitator")
            asha = create_account("asha", PASSWORD)
            add_member(circle, meera, "facilitator")
            add_member(circle, asha, "participant")
            commit()
            piece = offer(asha, circle, title="River song", kind="artwork")
            curate(meera, circle, "river-songs", [piece])
        return app, piece

    with contexts:
        yield build
        db.session.remove()


def _public_answers(client, piece, **kwargs) -> dict[str, object]:
    paths = [
        "/feeds/public.atom",
        "/sitemap.xml",
        "/robots.txt",
        "/collections/river-songs/feed.atom",
        f"/items/{piece.public_id}",
        f"/oembed?url={BASE}/items/{piece.public_id}",
        f"/embed/items/{piece.public_id}",
        "/api/v1/collections/river-songs",
        f"/api/v1/items/{piece.public_id}",
    ]
    return {path: client.get(path, **kwargs) for path in paths}


def test_with_a_base_url_every_link_uses_it(based):
    app, piece = based()
    client = app.test_client()
    answers = _public_answers(client, piece)
    for path in (
        "/feeds/public.atom",
        "/sitemap.xml",
        "/robots.txt",
        f"/oembed?url={BASE}/items/{piece.public_id}",
    ):
        assert answers[path].status_code == 200, path
    links = [link for answer in answers.values() for link in _links(answer.get_data(as_text=True))]
    assert len(links) > 10
    assert [link for link in links if not link.startswith(BASE + "/")] == []
    assert "og:url" in answers[f"/items/{piece.public_id}"].get_data(as_text=True)
    elsewhere = f"http://evil.example/items/{piece.public_id}"
    assert client.get(f"/oembed?url={elsewhere}").status_code == 404


@pytest.mark.parametrize(
    "headers, base_url",
    [
        ({"Host": "evil.example"}, None),
        ({}, "http://evil.example/"),
        ({}, "http://127.0.0.1:5000/"),
        ({"Host": "archive.example.org.evil.example"}, None),
    ],
)
def test_with_a_base_url_another_host_is_refused(based, headers, base_url):
    app, piece = based()
    client = app.test_client()
    kwargs = {"headers": headers, **({"base_url": base_url} if base_url else {})}
    for path, answer in _public_answers(client, piece, **kwargs).items():
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400, path
        assert "evil" not in text and "127.0.0.1" not in text
        assert all(link.startswith(BASE + "/") for link in _links(text))


def test_a_forwarded_host_counts_only_behind_a_proxy(based):
    app, piece = based(PROXY_FIX=True)
    client = app.test_client()
    forged = client.get("/sitemap.xml", headers={"X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 400
    proxied = client.get(
        "/sitemap.xml",
        base_url="http://127.0.0.1:5000/",
        headers={"X-Forwarded-Host": "archive.example.org", "X-Forwarded-Proto": "https"},
    )
    assert proxied.status_code == 200
    assert all(link.startswith(BASE + "/") for link in _links(proxied.get_data(as_text=True)))


def test_a_health_check_may_name_the_machine(based):
    app, _piece = based()
    assert app.test_client().get("/healthz", base_url="http://10.0.0.5:5000/").status_code == 200


def test_invite_and_share_links_and_the_command_line_use_the_base_url(based):
    from flask import url_for

    from tests.conftest import BrowserLikeClient, sign_in

    app, _piece = based()
    meera = BrowserLikeClient(app.test_client())
    # over HTTPS a form is taken only with a Referer from the site itself (Flask-WTF)
    meera.raw.environ_base["HTTP_REFERER"] = BASE + "/"
    sign_in(meera, "meera")
    invite = meera.post_form(
        "/circles/river-circle/invites",
        {"days": "7", "role": "participant"},
        page="/circles/river-circle/members",
        follow_redirects=True,
    )
    shared = meera.post_form(
        "/collections/river-songs/share-links",
        {"days": "7"},
        page="/collections/river-songs",
        follow_redirects=True,
    )
    for answer in (invite, shared):
        links = [
            link
            for link in _links(answer.get_data(as_text=True))
            if "/join/" in link or "/shared/" in link
        ]
        assert links and all(link.startswith(BASE + "/") for link in links), answer.status
    with app.app_context():
        assert url_for("pages.home", _external=True) == BASE + "/"


def test_a_base_url_with_a_path(based):
    app, piece = based("https://example.org/archive/")
    client = app.test_client()
    for path, base_url in (
        ("/robots.txt", None),
        ("/archive/robots.txt", "https://example.org/"),
        ("/robots.txt", "https://example.org/"),
    ):
        kwargs = {"base_url": base_url} if base_url else {}
        answer = client.get(path, **kwargs)
        assert answer.status_code == 200, (path, base_url)
        assert "Sitemap: https://example.org/archive/sitemap.xml" in answer.get_data(as_text=True)
    feed = client.get("/feeds/public.atom").get_data(as_text=True)
    assert all(link.startswith("https://example.org/archive/") for link in _links(feed))
    assert client.get("/robots.txt", base_url="https://evil.example/archive/").status_code == 400


def test_without_a_base_url_links_follow_the_request_as_before(based):
    app, piece = based(None)
    client = app.test_client()
    robots = client.get("/robots.txt", base_url="http://127.0.0.1:5000/")
    assert robots.status_code == 200
    assert "Sitemap: http://127.0.0.1:5000/sitemap.xml" in robots.get_data(as_text=True)
    feed = client.get("/feeds/public.atom", headers={"Host": "other.example"})
    assert feed.status_code == 200
    assert all(
        link.startswith("http://other.example/") for link in _links(feed.get_data(as_text=True))
    )


@pytest.mark.parametrize(
    "wrong",
    [
        "archive.example.org",
        "ftp://archive.example.org",
        "https://archive.example.org/?x=1",
        "https://someone@archive.example.org",
    ],
)
def test_a_base_url_that_is_not_one_stops_the_start(make_app, wrong):
    with pytest.raises(ValueError, match="ARCHIVE_BASE_URL"):
        make_app(BASE_URL=wrong)


# --- 7. renaming yourself re-indexes what is signed with your name ---------------------------


def _found(text: str) -> set[str]:
    from flask_login import AnonymousUserMixin

    from archive.search.query import search

    db.session.expire_all()
    return {hit.item.public_id for hit in search(AnonymousUserMixin(), text).hits}


def test_a_new_name_is_found_and_the_old_one_is_not(make_account, make_circle, signed_in):
    circle = make_circle()
    asha = make_account("asha", circle=circle, display_name="Kavita Zqxoldname")
    named = offer(asha, circle, title="A poem about the river")
    offer(
        asha, circle, title="Under another name", attribution="pseudonym", pseudonym="Neela Zqxpen"
    )
    offer(asha, circle, title="Unsigned", attribution="anonymous")
    assert _found("Zqxoldname") == {named.public_id}

    client = signed_in(asha)
    saved = client.post_form(
        "/account",
        {
            "profile-display_name": "Kavita Zqxnewname",
            "profile-locale": "",
            "profile-submit": "Save",
        },
    )

    assert saved.status_code == 302
    assert _found("Zqxoldname") == set()
    assert _found("Zqxnewname") == {named.public_id}
    assert _found("Zqxpen") != set()


def test_a_message_that_is_not_a_format_is_still_logged_scrubbed(access_log):
    logger, lines = access_log
    logger.error("100% of /tags/%s", WORD, "extra")
    assert lines and WORD not in lines[0] and "/tags/…" in lines[0]
