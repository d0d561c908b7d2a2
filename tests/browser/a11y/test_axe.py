"""axe-core finds no WCAG 2.1 A/AA violation on any main page, in English, Hindi and Marathi.

axe-core is the copy bundled in the ``axe-playwright-python`` wheel (MPL-2.0), read from the
installed package and evaluated in the page: nothing is fetched, and the page's own CSP stays
on (evaluation through the DevTools protocol is not a page script)."""
from __future__ import annotations

from importlib.resources import files

import pytest

from tests.browser.a11y.pages import LANGUAGES, MAIN_PAGES

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                       resultTypes: ["violations"]})
    .then(result => result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.map(n => n.target.join(" ")),
        summary: v.nodes.slice(0, 3).map(n => n.failureSummary)})))"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def axe_violations(page, axe_source: str) -> list[dict]:
    page.evaluate(axe_source)
    return page.evaluate(RUN_AXE, WCAG_TAGS)


def describe(violations: list[dict]) -> str:
    return "\n".join(f"- {v['id']} ({v['impact']}): {v['help']}\n    at {', '.join(v['targets'])}"
                     f"\n    {' | '.join(s.replace(chr(10), ' ') for s in v['summary'])}"
                     for v in violations)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("main_page", MAIN_PAGES, ids=lambda p: p.name)
def test_no_axe_violations(site, open_page, axe_source, main_page, lang):
    page = open_page(lang, main_page.who)
    main_page.open(page, site)
    assert page.get_attribute("html", "lang") == lang

    violations = axe_violations(page, axe_source)

    assert not violations, (f"{main_page.name} in {lang}: {len(violations)} axe violations\n"
                            + describe(violations))


def test_axe_reports_a_violation(site, open_page, axe_source):
    """The check above can fail: a page with an unlabelled field and an image without alt."""
    page = open_page("en")
    page.goto(site.url + "/sign-in")
    page.evaluate("""() => { document.querySelector('label[for=username]').remove();
                             document.querySelector('main').append(document.createElement('img')); }""")
    found = {v["id"] for v in axe_violations(page, axe_source)}
    assert {"label", "image-alt"} <= found, found
