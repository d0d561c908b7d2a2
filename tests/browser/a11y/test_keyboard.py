"""Keyboard and focus: a skip link to the content, the contribute form in tab order with a
visible outline on every stop, form errors announced and tied to their fields, and content
notes that open with the keyboard."""

from __future__ import annotations

import re

import pytest

from tests.browser.a11y.pages import MAIN_PAGES

pytestmark = pytest.mark.browser

#: each stop the keyboard should make in a form: a radio group is one stop (its checked radio)
TAB_STOPS = """form => {
  const stops = [], groups = new Set();
  for (const el of form.elements) {
    if (el.type === 'hidden' || el.disabled || el.tagName === 'FIELDSET') continue;
    if (el.type === 'radio') {
      if (groups.has(el.name)) continue;
      groups.add(el.name);
      const checked = form.querySelector(`input[name="${el.name}"]:checked`);
      stops.push((checked || el).id || el.name);
    } else stops.push(el.id || el.name);
  }
  return stops;
}"""
FOCUSED = """() => { const el = document.activeElement, style = getComputedStyle(el);
  return {id: el.id || el.name || el.tagName, outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth), colour: style.outlineColor,
          paper: [document.body, document.documentElement]
                   .map(e => getComputedStyle(e).backgroundColor)
                   .find(c => c !== 'rgba(0, 0, 0, 0)')}; }"""


def luminance(css: str) -> float:
    red, green, blue = (int(v) / 255 for v in re.findall(r"\d+(?:\.\d+)?", css)[:3])

    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def assert_visible_focus(focused: dict) -> None:
    assert focused["outline"] not in ("none", "") and focused["width"] >= 2, focused
    assert contrast(focused["colour"], focused["paper"]) >= 3, focused  # WCAG 1.4.11


def test_skip_link_then_the_contribute_form_in_order(site, open_page):
    page = open_page("en", "asha")
    page.goto(site.url + "/circles/ghar/contribute")

    page.keyboard.press("Tab")
    skip = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.getAttribute('href')]"
    )
    assert skip == ["skip", "#main"]
    assert page.locator("a.skip").is_visible() and page.locator("a.skip").bounding_box()["x"] >= 0
    assert_visible_focus(page.evaluate(FOCUSED))
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    expected = page.locator("main form.stack").evaluate(TAB_STOPS)
    assert expected[0] == "kind-0" and expected[-1] == "submit" and len(expected) > 12
    reached = []
    for _press in range(len(expected) + 6):  # a date field has a stop for each of its parts
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert_visible_focus(focused)
        if not reached or reached[-1] != focused["id"]:
            reached.append(focused["id"])
        if focused["id"] == expected[-1]:
            break
    assert reached == expected


def _unknown_kind(page):
    """No person can send this, but it shows a radio group's error the way a refusal would."""
    page.locator('input[name="kind"]').first.evaluate(
        "radio => { radio.value = 'unknown'; radio.checked = true; }"
    )


@pytest.mark.parametrize(
    "name, fields, tamper",
    [
        ("contribute-errors", {"title"}, None),
        ("contribute-errors", {"title", "kind"}, _unknown_kind),
        ("sign-in-error", {"password"}, None),
    ],
    ids=["contribute", "contribute-radio", "sign-in"],
)
def test_form_errors_are_announced_and_tied_to_fields(site, open_page, name, fields, tamper):
    main_page = next(p for p in MAIN_PAGES if p.name == name)
    page = open_page("hi", main_page.who)
    if tamper:
        page.goto(site.url + main_page.path(site))
        tamper(page)
        with page.expect_navigation():
            page.fill('input[name="title"]', "")
            page.click('main form input[type="submit"]')
    else:
        main_page.open(page, site)

    summary = page.locator("main .error-summary")
    assert summary.count() == 1 and summary.get_attribute("role") == "alert"
    before_form = summary.evaluate(
        "(s) => !!(s.compareDocumentPosition(document.querySelector('main form.stack')) & 4)"
    )
    assert before_form, "the error summary comes after the form"
    for link in summary.locator("a").all():
        target = link.get_attribute("href").lstrip("#")
        assert page.locator(f'[id="{target}"]').count() == 1, target
    invalid = page.locator('main [aria-invalid="true"]')
    names = {invalid.nth(i).get_attribute("name") for i in range(invalid.count())}
    assert fields <= names, names
    for i in range(invalid.count()):
        field = invalid.nth(i)
        described = (field.get_attribute("aria-describedby") or "").split()
        errors = [page.locator(f'[id="{d}"]') for d in described]
        messages = [
            e.inner_text().strip()
            for e in errors
            if e.count() == 1 and "error" in (e.get_attribute("class") or "")
        ]
        assert messages and all(messages), (field.get_attribute("name"), described)
    # the summary's link takes the keyboard to the field
    summary.locator("a").first.focus()
    page.keyboard.press("Enter")
    first = summary.locator("a").first.get_attribute("href").lstrip("#")
    assert page.evaluate("() => document.activeElement.id") == first


def test_content_note_opens_with_the_keyboard(site, open_page):
    page = open_page("mr", "asha")
    page.goto(f"{site.url}/items/{site.artwork}")
    details = page.locator("details.content-note")
    image = details.locator("img")
    assert details.get_attribute("open") is None and not image.is_visible()
    assert image.get_attribute("alt")

    details.locator("summary").focus()
    assert_visible_focus(page.evaluate(FOCUSED))
    page.keyboard.press("Enter")

    assert details.get_attribute("open") is not None
    image.wait_for(state="visible")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    page.keyboard.press("Space")
    assert details.get_attribute("open") is None
