"""axe-core finds no WCAG 2.1 A/AA violation on any main page, each in one of English, Hindi
and Marathi by turns, the home pages in all three (``pages.AXE_CHECKED`` says why).

axe-core is the copy bundled in the ``axe-playwright-python`` wheel (MPL-2.0), read from the
installed package and evaluated in the page (see survey.py): nothing is fetched."""

from __future__ import annotations

import pytest

from tests.browser.a11y.pages import AXE_CHECKED, LANGUAGES, MAIN_PAGES
from tests.browser.a11y.survey import axe_violations

pytestmark = pytest.mark.browser


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    at {', '.join(v['targets'])}"
        f"\n    {' | '.join(s.replace(chr(10), ' ') for s in v['summary'])}"
        for v in violations
    )


@pytest.mark.parametrize(
    "main_page, lang",
    [(page, lang) for page in MAIN_PAGES for lang in LANGUAGES if (page.name, lang) in AXE_CHECKED],
    ids=lambda value: getattr(value, "name", value),
)
def test_no_axe_violations(site, survey, main_page, lang):
    found = survey(main_page, lang)

    assert found.html_lang == lang
    assert not found.violations, (
        f"{main_page.name} in {lang}: {len(found.violations)} "
        "axe violations\n" + describe(found.violations)
    )


def test_axe_reports_a_violation(site, open_page):
    """The check above can fail: a page with an unlabelled field and an image without alt."""
    page = open_page("en")
    page.goto(site.url + "/sign-in")
    page.evaluate("""() => {
        document.querySelector('label[for=username]').remove();
        document.querySelector('main').append(document.createElement('img')); }""")
    found = {v["id"] for v in axe_violations(page)}
    assert {"label", "image-alt"} <= found, found
