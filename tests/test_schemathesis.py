"""The JSON API keeps its OpenAPI document, checked by schemathesis as ``schemathesis run
--checks all`` checks it, in process over WSGI: every check (no server error, status codes,
content types, headers and bodies as documented, bad data refused and good data taken, a
405 with ``Allow`` for a method the path does not take, auth not ignored, a created thing
found and a removed one gone) in every phase (coverage, fuzzing, stateful), with and
without a bearer token. Settings shared with a longer run are in ``schemathesis.toml``.

The site is seeded like a demo site, the token is a facilitator's, and part of the generated
slugs, ids and circle names are real ones, so the writes get past "not found". A fixed seed
and a few examples per operation keep a run quick and repeatable; the README says how to run
the same checks longer against a served site."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from schemathesis.transport import wsgi
from sqlalchemy import select

from archive import create_app, demo
from archive.db import commit, db
from archive.models import Account, Circle, Collection, Item
from archive.operations.accounts import create_token
from tests.conftest import config_for_tests


@dataclass
class Site:
    app: Flask
    headers: dict
    slugs: list[str]
    item_ids: list[str]
    circles: list[str]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    app = create_app(config_for_tests(tmp_path_factory.mktemp("schemathesis")))
    with app.app_context():
        db.create_all()
        demo.load()
        commit()
        meera = db.session.scalar(select(Account).where(Account.username == "meera"))
        token = create_token(meera, "schemathesis")
        commit()
        found = Site(
            app,
            {"Authorization": f"Bearer {token}"},
            list(db.session.scalars(select(Collection.slug))),
            list(db.session.scalars(select(Item.public_id))),
            list(db.session.scalars(select(Circle.slug))),
        )
        db.session.remove()
    return found


#: the examples each operation gets in each phase: small, so the whole file stays quick; the
#: README says how to run the same checks longer against a served site
EXAMPLES = 3
SEED = 20261208
ROOT = Path(__file__).resolve().parent.parent


def _some_real(value, real: list[str]):
    """The generated value, or one of the site's real ones."""
    return st.sampled_from([value, *real]) if real else st.just(value)


@pytest.fixture(autouse=True)
def _in_process(monkeypatch):
    """Schemathesis' WSGI transport, without the socket settings its auth probes
    (``ignored_auth``) pass along and Werkzeug's test client does not take.

    Each request also reseeds the global ``random``: Hypothesis seeds it alike for every
    example, Whoosh names its segment files with it, and a name drawn twice breaks the
    index's next commit."""
    send = wsgi.WSGI_TRANSPORT.send

    def send_in_process(case, *, session=None, **kwargs):
        random.seed()
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(case, session=session, **kwargs)

    monkeypatch.setattr(wsgi.WSGI_TRANSPORT, "send", send_in_process)


def _schema(site: Site, headers: dict, modes: list[GenerationMode]):
    """The document as served, with the run's settings: ``--checks all``, every phase,
    positive and negative data, a fixed seed, `EXAMPLES` examples per operation."""
    config = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")
    config.update(seed=SEED, max_failures=None)
    project = config.projects.override
    project.checks.update(included_check_names=["all"])
    project.generation.update(
        modes=modes, max_examples=EXAMPLES, deterministic=True, database="none"
    )
    # in process there is no HTTP client to undo compression: answers come as they are
    project.update(headers={"Accept-Encoding": "identity", **headers})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", site.app, config=config)

    @schema.hook
    def flatmap_path_parameters(context, parameters):
        if not isinstance(parameters, dict):
            return st.just(parameters)
        real = {"slug": site.slugs, "id": site.item_ids}
        strategy = st.just(dict(parameters))
        for name, values in real.items():
            if name in parameters:
                strategy = strategy.flatmap(
                    lambda p, n=name, v=values: _some_real(p[n], v).map(
                        lambda chosen, p=p, n=n: {**p, n: chosen}
                    )
                )
        return strategy

    @schema.hook
    def flatmap_body(context, body):
        if not isinstance(body, dict):
            return st.just(body)
        strategy = st.just(dict(body))
        for name, values in (("item", site.item_ids), ("circle", site.circles)):
            if isinstance(body.get(name), str) and body[name]:  # invalid ones stay invalid
                strategy = strategy.flatmap(
                    lambda b, n=name, v=values: _some_real(b[n], v).map(
                        lambda chosen, b=b, n=n: {**b, n: chosen}
                    )
                )
        return strategy

    return schema


def _failures(site: Site, headers: dict, modes: list[GenerationMode]) -> list[str]:
    """``schemathesis run --checks all`` in this process. Returns every failure and every
    error the run met, each with what was sent and what came back."""
    found: dict[str, str] = {}
    for event in from_schema(_schema(site, headers, modes)).execute():
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        said = f"{event.recorder.label}: {check.name}: {failure.title}"
                        found.setdefault(said, _exchange(event.recorder, case_id, failure))
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            error = getattr(event, "value", None) or getattr(event, "exception", None)
            found.setdefault(f"{getattr(event, 'label', '')}: error", repr(error))
    return [f"{said}\n    {detail}" for said, detail in found.items()]


def _exchange(recorder, case_id: str, failure) -> str:
    interaction = recorder.interactions.get(case_id)
    if interaction is None:
        return str(failure.message)[:300]
    request, response = interaction.request, interaction.response
    sent = f"{request.method} {request.uri} {(request.body or b'')[:200]!r}"
    got = f"{response.status_code} {(response.content or b'')[:200]!r}" if response else "-"
    return f"{sent} -> {got}; {str(failure.message)[:300]}"


def test_the_api_keeps_its_contract_for_a_facilitator(site):
    failures = _failures(site, site.headers, list(GenerationMode))
    assert not failures, "\n".join(failures)


def test_the_api_keeps_its_contract_for_a_reader_without_a_token(site):
    """Good data only: without a token every write is refused (401) before its data is read,
    and what the reads refuse is refused alike with a token, above."""
    failures = _failures(site, {}, [GenerationMode.POSITIVE])
    assert not failures, "\n".join(failures)
