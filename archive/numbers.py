"""Numbers that come from outside (a query string, a JSON body, a cookie, a command line) and
reach the database. A database integer holds at most 2**63 - 1; a bigger number used to make
the driver fail and the page answer 500. Here it is simply no such thing (None), and a page
number past any list the archive could hold is a page that is not there (404)."""

from __future__ import annotations

from typing import Any, Optional

from flask import abort, request

DB_INT_MAX = 2**63 - 1
#: no list of the archive comes near this many pages (20 pieces a page)
MAX_PAGE = 1_000_000


def db_int(value: Any) -> Optional[int]:
    """``value`` as a positive integer a database column can hold, else None. Takes ints and
    strings of ASCII digits; a bool is not a number here."""
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()):
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= DB_INT_MAX else None


def page_number(name: str = "page") -> int:
    """The page of a list asked for in the query string: 1 when it is missing or not a
    number (as before), 404 when it is past any page that could exist."""
    try:
        page = int(request.args.get(name, "1"))
    except ValueError:
        return 1
    if page > MAX_PAGE:
        abort(404)
    return max(page, 1)
