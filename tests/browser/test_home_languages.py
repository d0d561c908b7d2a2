"""The home page in English, Hindi and Marathi, chosen with the visible switcher links (no
JavaScript needed: they are plain links), and no session cookie for it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

LANGUAGES = {"en": "English", "hi": "हिन्दी", "mr": "मराठी"}


def test_home_page_in_each_language(live_server, page, tmp_path):
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    response = page.goto(live_server.url + "/")
    assert response.status == 200
    assert page.get_attribute("html", "lang") == "en"

    for code in ("hi", "mr", "en"):
        link = page.locator(f'nav.languages a[hreflang="{code}"]')
        assert link.is_visible()
        assert link.inner_text().strip() == LANGUAGES[code]
        with page.expect_navigation():
            link.click()

        assert urlsplit(page.url).path == "/"
        assert page.get_attribute("html", "lang") == code
        assert link.get_attribute("aria-current") == "true"
        assert page.locator('nav.languages a[aria-current="true"]').count() == 1
        cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
        assert cookies == {"language": code}, "a language chosen, and no session"
        assert page.locator("h1").inner_text().strip()
        shot = tmp_path / f"home-{code}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000

    foreign = [
        url
        for url in requested
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert requested, "no requests were recorded"
    assert foreign == [], f"the page reached outside the site: {foreign}"
    assert any(urlsplit(url).path.endswith("/style.css") for url in requested)
