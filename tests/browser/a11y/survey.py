"""One look at a main page in one language, taken once per test worker and read by several
tests: what axe-core finds, the bytes of its HTML and CSS, every request it made, and the
Latin words its interface shows. Loading and checking each page once keeps the run short."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from urllib.parse import urlsplit

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """tags => axe.run(document, {runOnly: {type: "tag", values: tags},
                                       resultTypes: ["violations"]})
    .then(result => result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        targets: v.nodes.map(n => n.target.join(" ")),
        summary: v.nodes.slice(0, 3).map(n => n.failureSummary)})))"""
STYLESHEETS = """() => [...document.querySelectorAll('link[rel~="stylesheet"]')]
                         .map(link => link.href)"""
UI_WORDS = """() => {
  const lang = document.documentElement.lang, words = [];
  const inUi = el => (el.closest('[lang]') || document.documentElement).lang === lang;
  const skip = 'script, style, code, textarea, .secret';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el && inUi(el) && !el.closest(skip)) words.push(node.textContent);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [alt], [placeholder], '
                                              + 'input[type=submit]')) {
    if (!inUi(el)) continue;
    for (const name of ['aria-label', 'title', 'alt', 'placeholder'])
      if (el.hasAttribute(name)) words.push(el.getAttribute(name));
    if (el.type === 'submit') words.push(el.value);
  }
  words.push(document.title);
  return words.join(' ').match(/[A-Za-z]{2,}/g) || [];
}"""
OPEN_NOTES_AND_WAIT = """() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  return Promise.all([...document.images].map(image => {
    image.loading = 'eager';
    return image.decode().catch(() => null); }));
}"""


def axe_source() -> str:
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """axe-core as the wheel bundles it, evaluated in the page: nothing is fetched, and the
    page's CSP stays on (evaluation through the DevTools protocol is not a page script)."""
    page.evaluate(axe_source())
    return page.evaluate(RUN_AXE, WCAG_TAGS)


@dataclass
class Survey:
    html_lang: str
    violations: list[dict]
    weights: dict[str, int]  # document and each same-site stylesheet, in bytes
    requested: list[str] = field(default_factory=list)
    ui_words: list[str] = field(default_factory=list)
    site_url: str = ""  # the site the page was taken from (one per worker)

    def foreign(self, site_url: str) -> list[str]:
        ours = urlsplit(self.site_url or site_url).netloc
        return [
            url
            for url in self.requested
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != ours
        ]


def take(page, site, main_page, with_axe: bool = True) -> Survey:
    """What one page shows and costs; axe-core (two seconds a page) only ``with_axe``."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = main_page.open(page, site)
    weights = {"html": len(response.body())}
    for href in page.evaluate(STYLESHEETS):
        if urlsplit(href).netloc == urlsplit(site.url).netloc:
            weights[urlsplit(href).path] = len(page.request.get(href).body())
    survey = Survey(
        html_lang=page.get_attribute("html", "lang"),
        site_url=site.url,
        violations=axe_violations(page) if with_axe else [],
        weights=weights,
        ui_words=page.evaluate(UI_WORDS),
    )
    page.evaluate(OPEN_NOTES_AND_WAIT)  # content notes open: their artwork is fetched too
    survey.requested = list(requested)
    return survey
