"""Property-based checks of the JSON API against its own OpenAPI document (schemathesis, in
process over WSGI): whatever a client sends, the API never answers with a server error.

The site is seeded like a demo site, requests carry a facilitator's bearer token, and part of
the generated slugs, ids and circle names are real ones, so the writes get past "not found".
Bounded and derandomized, so a run is quick and repeatable."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
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


def _some_real(value, real: list[str]):
    """The generated value, or one of the site's real ones."""
    return st.sampled_from([value, *real]) if real else st.just(value)


@pytest.fixture(scope="module")
def api_schema(site):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", site.app)

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
            if name in body:
                strategy = strategy.flatmap(
                    lambda b, n=name, v=values: _some_real(b[n], v).map(
                        lambda chosen, b=b, n=n: {**b, n: chosen}
                    )
                )
        return strategy

    return schema


#: schemathesis' own pytest plugin (``from_fixture``/``parametrize``) reaches into pytest
#: internals that pytest 9 no longer has, so the operations are walked here with Hypothesis
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def _server_errors(operation, mode, headers: dict) -> list[str]:
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    def run(case):
        # Hypothesis seeds the global ``random`` alike for every example; Whoosh names its
        # segment files with it, and a name drawn twice breaks the index's next commit
        random.seed()
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.label  # nothing there to get wrong
    except Exception as failure:  # noqa: BLE001  (every operation is tried; all are reported)
        return [f"{operation.label} ({mode.value}): {failure}"]
    return []


def test_the_api_never_fails_on_its_side(site, api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    failures = [
        failure
        for operation in operations
        for mode in MODES
        for failure in _server_errors(operation, mode, site.headers)
    ]
    assert not failures, "\n\n".join(failures[:5])
