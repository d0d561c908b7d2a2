"""The main pages, each with who looks at it and how a person gets there (some only after
sending a form), for the accessibility, weight, third-party and language tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

SUBMIT = 'main form input[type="submit"]'


@dataclass(frozen=True)
class MainPage:
    name: str
    who: Optional[str]  # signed in as, or None
    path: Callable  # site -> path to open first
    then: Optional[Callable] = None  # (page, site) -> fills and sends a form on that page
    status: int = 200  # what the page finally answers

    def open(self, page, site):
        """Go to the page as a person would; returns the final document's response."""
        response = page.goto(site.url + self.path(site))
        if self.then is not None:
            with page.expect_navigation() as navigation:
                self.then(page, site)
            response = navigation.value
        assert response.status == self.status, (self.name, response.status, page.url)
        return response


def _submit(page, selector=SUBMIT):
    page.click(selector)


def _empty_contribution(page, _site):
    page.fill('input[name="title"]', "")
    page.check('input[name="kind"][value="artwork"]')  # an artwork without a picture
    _submit(page)


def _wrong_password(page, _site):
    page.fill('input[name="username"]', "asha")
    page.fill('input[name="password"]', "not the password")
    _submit(page)


def _code(page, site):
    page.fill('input[name="code"]', site.poem_code)
    _submit(page)


MAIN_PAGES = [
    MainPage("home", "asha", lambda s: "/"),
    MainPage("home-visitor", None, lambda s: "/"),
    MainPage("circle", "asha", lambda s: "/circles/ghar"),
    MainPage("item-poem", "asha", lambda s: f"/items/{s.poem}"),
    MainPage("item-artwork", "asha", lambda s: f"/items/{s.artwork}"),
    MainPage("item-public", None, lambda s: f"/items/{s.knowhow}"),
    MainPage("history", "asha", lambda s: f"/items/{s.poem}/history"),
    MainPage("diff", "asha", lambda s: f"/items/{s.poem}/diff"),
    MainPage("search", "asha", lambda s: "/search?q=udasi"),
    MainPage("search-empty", "asha", lambda s: "/search?q=zzqqxx"),
    MainPage("collection", None, lambda s: "/collections/screen-time"),
    MainPage("collection-curating", "meera", lambda s: "/collections/screen-time"),
    MainPage("collective-view", None, lambda s: "/collections/screen-time/read"),
    MainPage("contribute", "asha", lambda s: "/circles/ghar/contribute"),
    MainPage(
        "contribute-errors", "asha", lambda s: "/circles/ghar/contribute", _empty_contribution, 422
    ),
    MainPage("receipt", "asha", lambda s: f"/items/{s.poem}/receipt"),
    MainPage("change-consent", "asha", lambda s: f"/items/{s.poem}/consent"),
    MainPage("withdraw-item", "asha", lambda s: f"/items/{s.poem}/withdraw"),
    MainPage("ledger", "asha", lambda s: "/account/ledger"),
    MainPage("my-pieces", "asha", lambda s: "/account/pieces"),
    MainPage("proposal", "asha", lambda s: f"/items/{s.proposal}"),
    MainPage("withdraw-code", None, lambda s: "/withdraw"),
    MainPage("withdraw-code-confirm", None, lambda s: "/withdraw", _code),
    MainPage("sign-in", None, lambda s: "/sign-in"),
    MainPage("sign-in-error", None, lambda s: "/sign-in", _wrong_password, 422),
    MainPage("choose-new-password", None, lambda s: f"/reset/{s.reset}"),
]
LANGUAGES = ("en", "hi", "mr")


#: the (page, language) pairs axe-core checks: every page once, the three languages taking
#: turns down the list, and the home pages in all three. axe's rules read the page's
#: structure (labels, names, roles, contrast, ``lang``), which the templates give alike in
#: every language; what a language changes is checked on every page in every language by
#: test_languages (no English left) and test_weight (bytes, requests).
AXE_CHECKED = {
    (page.name, LANGUAGES[number % len(LANGUAGES)]) for number, page in enumerate(MAIN_PAGES)
} | {(page.name, lang) for page in MAIN_PAGES if page.name.startswith("home") for lang in LANGUAGES}
