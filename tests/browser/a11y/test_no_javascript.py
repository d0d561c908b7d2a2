"""With JavaScript switched off, the flows the contribute journey does not walk still work:
changing consent, searching, and taking a piece back with only the receipt's code. (Signing
in, sharing and editing a poem without JavaScript are walked in test_contribute_journey.)"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

SUBMIT = 'main form input[type="submit"]'
TITLE = "सांझ की चिड़िया"  # only this test shares it, so only it is found


def submit(page, selector=SUBMIT):
    with page.expect_navigation() as navigation:
        page.click(selector)
    return navigation.value


def test_consent_search_and_withdraw_with_a_code_without_javascript(site, open_page):
    page = open_page("hi", "asha", javascript=False)
    page.goto(site.url + "/circles/ghar/contribute")
    page.check('input[name="kind"][value="poem"]')
    page.fill('input[name="title"]', TITLE)
    page.fill('textarea[name="body"]', "चिड़िया लौट आई\nआँगन में धूप है")
    page.select_option('select[name="language"]', "hi")
    page.check('input[name="audience"][value="public"]')
    assert submit(page).status == 200
    code = page.locator(".withdrawal-code code").inner_text().strip()
    item_path = urlsplit(page.url).path.removesuffix("/receipt")

    # consent: from everyone to the circle only
    page.goto(site.url + item_path + "/consent")
    assert page.locator('input[name="audience"][value="public"]').is_checked()
    page.check('input[name="audience"][value="circle"]')
    submit(page)
    assert urlsplit(page.url).path == item_path
    assert page.locator(".flashes").count() == 1
    page.goto(site.url + item_path + "/consent")
    assert page.locator('input[name="audience"][value="circle"]').is_checked()
    visitor = open_page("en", None, javascript=False)
    assert visitor.goto(site.url + item_path).status == 404

    # search finds it for a member
    for query in (TITLE.split()[0], TITLE):
        page.goto(site.url + "/search")
        page.fill("#q", query)
        submit(page, 'form[role="search"] button[type="submit"]')
        assert page.locator(f'ol.results a[href="{item_path}"]').count() == 1, query

    # anyone with the code takes it back, with no account and no script
    assert visitor.goto(site.url + "/withdraw").status == 200
    visitor.fill('input[name="code"]', code.lower().replace("-", " "))
    assert submit(visitor).status == 200
    assert TITLE in visitor.locator("h1").inner_text()
    assert submit(visitor).status == 200
    assert urlsplit(visitor.url).path == "/withdrawn"
    assert visitor.locator("h1").inner_text() == "It has been taken back"
    assert page.goto(site.url + item_path).status == 410
    page.goto(site.url + "/search?q=" + TITLE.split()[0])
    assert page.locator(f'ol.results a[href="{item_path}"]').count() == 0
