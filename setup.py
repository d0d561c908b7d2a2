"""What pyproject.toml cannot say: an installed copy carries inside the package what the
repository keeps at its top level (`templates/`, the demo in `collections/demo/`), and the
translations compiled (`.mo` files are built, never committed). An editable install reads
them in the checkout, where `scripts/translations compile` makes the catalogs."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("templates", "collections/demo")
CATALOGS = Path("archive/translations")


class BuildWithSiteFiles(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        package = Path(self.build_lib) / "archive"
        for folder in SHIPPED:
            self.copy_tree(folder, str(package / folder), preserve_mode=False)
        for po in sorted(CATALOGS.glob("*/LC_MESSAGES/messages.po")):
            compile_catalog(po, package / po.relative_to("archive").with_suffix(".mo"))


def compile_catalog(po: Path, mo: Path) -> None:
    """As `pybabel compile` does: fuzzy messages left out, and a catalog with errors refused."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parts[-3])
    errors = [(message.id, error) for message, problems in catalog.check() for error in problems]
    if errors:
        raise SystemExit(f"{po}: {errors}")
    mo.parent.mkdir(parents=True, exist_ok=True)
    with mo.open("wb") as handle:
        write_mo(handle, catalog)


setup(cmdclass={"build_py": BuildWithSiteFiles})
