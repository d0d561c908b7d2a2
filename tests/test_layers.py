"""The web layer sits on top: operations, packs, receipts, exports, security and the rest
never import from `archive/web/`, so they work the same for the API, the CLI and packs.
Only the application factory (`archive/__init__.py`) reaches into it, to wire it up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archive"
WEB = "archive.web"
#: the factory assembles every layer, the blueprints included
FACTORY = PACKAGE / "__init__.py"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module an import statement in ``source`` names (at any depth, in functions too),
    relative imports resolved against ``module``; ``from a import b`` names ``a.b`` as well,
    since b may be a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def reaches_web(names: set[str]) -> list[str]:
    return sorted(name for name in names if name == WEB or name.startswith(WEB + "."))


def below_web() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != FACTORY
        and not path.is_relative_to(PACKAGE / "web")
        and not path.is_relative_to(PACKAGE / "migrations")
    ]


def test_no_module_below_the_web_layer_imports_from_it():
    reaching = {}
    for path in below_web():
        found = reaches_web(
            imported(
                path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py"
            )
        )
        if found:
            reaching[str(path.relative_to(PACKAGE.parent))] = found
    assert reaching == {}


def test_the_modules_checked_include_the_ones_that_once_reached_up():
    checked = {module_name(path) for path in below_web()}
    assert {
        "archive.packs",
        "archive.security",
        "archive.receipts",
        "archive.export",
        "archive.labels",
        "archive.assets",
        "archive.cli",
        "archive.api",
    } <= checked


@pytest.mark.parametrize(
    "source, module",
    [
        ("import archive.web.labels", "archive.packs"),
        ("from archive.web import assets", "archive.security"),
        ("from archive import web", "archive.cli"),
        ("def f():\n    from archive.web.labels import largest", "archive.export"),
        ("from .web import ledger", "archive.receipts"),
        ("from ..web.labels import largest", "archive.media.images"),
    ],
)
def test_every_form_of_import_is_seen(source, module):
    assert reaches_web(imported(source, module))


@pytest.mark.parametrize(
    "source, module",
    [
        ("from archive import labels, assets", "archive.packs"),
        ("from .labels import largest", "archive.packs"),
        ("import archive.website", "archive.cli"),
    ],
)
def test_neighbours_of_the_web_layer_are_not_mistaken_for_it(source, module):
    assert reaches_web(imported(source, module)) == []
