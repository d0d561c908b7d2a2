"""Every message the site can show is translated into Hindi and Marathi.

The messages are extracted from the code and templates in-process (the same mapping as
``pybabel extract -F archive/translations/babel.cfg``), so a new string without its
translation fails here, not on a participant's phone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, check_and_call_extract_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "archive" / "translations"
SOURCES = ("archive", "templates")
LOCALES = ("hi", "mr")
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _source_files():
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*")):
            parts = path.relative_to(ROOT).parts
            if path.is_file() and not any(p.startswith((".", "__pycache__")) for p in parts):
                yield path


def extract() -> dict[tuple[str | None, str], tuple]:
    """(context, msgid) -> (msgid or (singular, plural), first place it is used)."""
    with open(TRANSLATIONS / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {}
    for path in _source_files():
        for filename, lineno, message, _comments, context in check_and_call_extract_file(
            str(path), method_map, options_map, None, KEYWORDS, (), False, dirpath=str(ROOT)
        ):
            if isinstance(message, tuple) and len(message) == 1:
                message = message[0]
            singular = message[0] if isinstance(message, tuple) else message
            if singular:
                found.setdefault((context, singular), (message, f"{filename}:{lineno}"))
    return found


def placeholders(text: str) -> set[str]:
    return {match.group(0) for match in PLACEHOLDER.finditer(text) if match.group(0) != "%%"}


def _named(found: set[str]) -> set[str]:
    return {p for p in found if p.startswith("%(")}


def problems_in(catalog, messages) -> list[str]:
    problems = []
    for (context, singular), (message, where) in sorted(messages.items(), key=lambda kv: kv[1][1]):
        entry = catalog.get(singular, context)
        label = f"{where}: {singular!r}"
        if entry is None:
            problems.append(f"missing       {label}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy         {label}")
        plural = isinstance(message, tuple)
        if plural and not entry.pluralizable:
            problems.append(f"not plural    {label}")
            continue
        forms = list(entry.string) if plural else [entry.string]
        if plural and len(forms) < catalog.num_plurals:
            problems.append(f"plural forms  {label} ({len(forms)} of {catalog.num_plurals})")
        if not forms or any(not form for form in forms):
            problems.append(f"untranslated  {label}")
            continue
        problems += _placeholder_problems(message, forms, label)
    return problems


def _placeholder_problems(message, forms: list[str], label: str) -> list[str]:
    if isinstance(message, tuple):
        expected = set().union(*(placeholders(m) for m in message))
        # a plural form may leave out the number itself ("one day"), never anything else
        needed = {p for p in expected if not p.startswith(("%(num)", "%d", "%(n)"))}
    else:
        expected = needed = placeholders(message)
    problems = []
    for form in forms:
        got = placeholders(form)
        if not _named(expected | got):
            continue  # no named placeholders: nothing to check for %-formatting by name
        if got - expected or needed - got:
            problems.append(
                f"placeholders  {label}: msgstr has {sorted(got)}, msgid has {sorted(expected)}"
            )
    return problems


@pytest.fixture(scope="module")
def messages():
    found = extract()
    assert len(found) > 50, "extraction found too few messages: is babel.cfg right?"
    return found


def test_extraction_sees_python_and_templates(messages):
    places = {where.split(":")[0] for _message, where in messages.values()}
    assert any(p.startswith("archive/") and p.endswith(".py") for p in places)
    assert any(p.startswith("templates/") and p.endswith(".html") for p in places)
    texts = {key[1] for key in messages}
    assert "That username and password do not match. Please try again." in texts  # gettext
    assert "Please fill this in." in texts  # lazy_gettext
    assert "%(num)d member" in texts  # ngettext in a template


def test_the_checker_finds_problems():
    """The test below can fail: a catalog with each kind of mistake is reported."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="hi")
    catalog.add("Saved.", "")
    catalog.add("Hello %(name)s", "नमस्ते %(nam)s")
    catalog.add(("%(num)d day", "%(num)d days"), ("%(num)d दिन", ""))
    catalog.add("Maybe", "शायद", flags=["fuzzy"])
    catalog.add(("one %(circle)s", "%(num)d %(circle)s"), ("एक", "%(num)d %(circle)s"))
    messages = {
        (None, "Saved."): ("Saved.", "a.py:1"),
        (None, "Hello %(name)s"): ("Hello %(name)s", "a.py:2"),
        (None, "%(num)d day"): (("%(num)d day", "%(num)d days"), "a.py:3"),
        (None, "Maybe"): ("Maybe", "a.py:4"),
        (None, "Not there"): ("Not there", "a.py:5"),
        (None, "one %(circle)s"): (("one %(circle)s", "%(num)d %(circle)s"), "a.py:6"),
    }
    found = "\n".join(problems_in(catalog, messages))
    assert "untranslated  a.py:1" in found
    assert "placeholders  a.py:2" in found
    assert "untranslated  a.py:3" in found
    assert "fuzzy         a.py:4" in found
    assert "missing       a.py:5" in found
    assert "placeholders  a.py:6" in found
    assert "a.py:3" in found and found.count("a.py:3") == 1


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(messages, locale):
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    assert po.exists(), f"no catalog at {po.relative_to(ROOT)}"
    with open(po, "rb") as handle:
        catalog = read_po(handle, locale=locale, ignore_obsolete=True)

    problems = problems_in(catalog, messages)

    assert not problems, (
        f"{len(problems)} of {len(messages)} messages are not ready in "
        f"{po.relative_to(ROOT)}:\n" + "\n".join(problems)
    )
