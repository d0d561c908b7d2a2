"""The request schemas of the OpenAPI document, enforced: a body is checked against the very
schema the document publishes (`archive.api.openapi.SCHEMAS`), so the API refuses exactly
what the document says it refuses, with 422 and every problem at once.

Only the parts of JSON Schema the document uses are read: ``$ref``, ``type`` (one or a
list), ``enum``, ``minLength``/``maxLength``/``pattern``,
``minimum``/``maximum``, ``items``/``maxItems``, ``properties``/``required`` and
``anyOf``. Properties the schema does not name are let through and ignored, as the document
allows. A whole number sent as ``2.0`` counts as ``2``, as JSON Schema counts it; ``format`` is
a note, as JSON Schema 2020-12 takes it (a date's form is its ``pattern``)."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from archive.api import ApiError

#: text with something to read in it: not only spaces, control characters (which are taken
#: out) or invisible joiners (`archive.operations.items.INVISIBLE`)
VISIBLE = "[^\\s\\x00-\\x1f\\x7f\\x85\\u200b-\\u200d\\u2060\\ufeff]"


def checked(value: Any, schema: dict, schemas: dict) -> Any:
    """``value`` as the schema reads it (whole numbers as ``int``), or `ApiError` 422 naming
    every problem found in it."""
    problems: list[tuple[str, str]] = []
    cleaned = _check(value, schema, schemas, "", problems)
    if problems:
        raise ApiError(
            422,
            problems[0][1],
            problems[0][0] or None,
            [
                {"error": message, **({"field": field} if field else {})}
                for field, message in problems
            ],
        )
    return cleaned


def _resolve(schema: dict, schemas: dict) -> dict:
    while "$ref" in schema:
        schema = {
            **schemas[schema["$ref"].rsplit("/", 1)[1]],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    return schema


def _check(value: Any, schema: dict, schemas: dict, field: str, problems: list) -> Any:
    schema = _resolve(schema, schemas)
    if "anyOf" in schema:
        return _any_of(value, schema["anyOf"], schemas, field, problems)
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        kind = _kind(value)
        if kind not in types:
            problems.append((field, _type_message(types, field)))
            return value
        if kind == "integer" and isinstance(value, float):
            value = int(value)
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"])
        problems.append(
            (field, _("'%(field)s' must be one of: %(choices)s.", field=field, choices=choices))
        )
    elif isinstance(value, str):
        _check_text(value, schema, field, problems)
    elif isinstance(value, int) and not isinstance(value, bool):
        _check_number(value, schema, field, problems)
    elif isinstance(value, list):
        return _check_list(value, schema, schemas, field, problems)
    elif isinstance(value, dict):
        return _check_object(value, schema, schemas, field, problems)
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_message(types: list[str], field: str) -> str:
    wanted = next((name for name in types if name != "null"), "null")
    messages = {
        "string": _("'%(field)s' must be text.", field=field),
        "integer": _("'%(field)s' must be a whole number.", field=field),
        "boolean": _("'%(field)s' must be true or false.", field=field),
        "array": _("'%(field)s' must be a list.", field=field),
        "object": _("'%(field)s' must be an object.", field=field),
    }
    return messages.get(wanted, _("'%(field)s' is not in the form it should take.", field=field))


def _check_text(value: str, schema: dict, field: str, problems: list) -> None:
    if len(value) < schema.get("minLength", 0) or (
        schema.get("pattern") == VISIBLE and not re.search(VISIBLE, value)
    ):
        problems.append((field, _("'%(field)s' must not be empty.", field=field)))
    elif len(value) > schema.get("maxLength", len(value)):
        problems.append(
            (
                field,
                ngettext(
                    "'%(field)s' may be at most %(num)d character long.",
                    "'%(field)s' may be at most %(num)d characters long.",
                    schema["maxLength"],
                    field=field,
                ),
            )
        )
    elif "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append((field, _("'%(field)s' is not in the form it should take.", field=field)))


def _check_number(value: int, schema: dict, field: str, problems: list) -> None:
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(
            (
                field,
                _("'%(field)s' must be %(limit)d or more.", field=field, limit=schema["minimum"]),
            )
        )
    elif "maximum" in schema and value > schema["maximum"]:
        problems.append(
            (
                field,
                _("'%(field)s' must be %(limit)d or less.", field=field, limit=schema["maximum"]),
            )
        )


def _check_list(value: list, schema: dict, schemas: dict, field: str, problems: list) -> list:
    if len(value) > schema.get("maxItems", len(value)):
        problems.append(
            (
                field,
                ngettext(
                    "'%(field)s' may hold at most %(num)d entry.",
                    "'%(field)s' may hold at most %(num)d entries.",
                    schema["maxItems"],
                    field=field,
                ),
            )
        )
    items = schema.get("items")
    return [_check(entry, items, schemas, field, problems) for entry in value] if items else value


def _check_object(value: dict, schema: dict, schemas: dict, field: str, problems: list) -> dict:
    prefix = f"{field}." if field else ""
    for name in schema.get("required", ()):
        if name not in value:
            problems.append((prefix + name, _("'%(field)s' is needed.", field=prefix + name)))
    cleaned = dict(value)
    for name, inner in schema.get("properties", {}).items():
        if name in value:
            cleaned[name] = _check(value[name], inner, schemas, prefix + name, problems)
    return cleaned


def _any_of(value: Any, choices: list, schemas: dict, field: str, problems: list) -> Any:
    for choice in choices:
        found: list = []
        cleaned = _check(value, choice, schemas, field, found)
        if not found:
            return cleaned
    problems.append((field, _("'%(field)s' is not in the form it should take.", field=field)))
    return value
