"""An offline pack read the way a participant reads it: unzipped on a device and opened from
files, with no connection and no JavaScript. Every picture loads and nothing is fetched from
anywhere but the pack itself."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.erasure_helpers import MARKER, world  # noqa: F401  (fixture)
from tests.public_helpers import curate, offer

pytestmark = pytest.mark.browser


@pytest.fixture
def unpacked(world, tmp_path):
    """A public collection's pack, downloaded and unzipped into a folder."""
    me = world["contributor"]
    pieces = [
        offer(
            me,
            world.home,
            title=f"{MARKER} morning walk",
            kind="knowhow",
            body="Walk before the house wakes.\n\nTake water.",
        ),
        offer(
            me,
            world.home,
            title="Paper boats",
            kind="artwork",
            language="hi",
            body="बच्चों के साथ बनाई।",
        ),
        offer(me, world.home, title="Second painting", kind="artwork"),
    ]
    curate(world["facilitator"], world.home, "walks", pieces)
    with world.viewers["anonymous"].client.get("/collections/walks/pack.zip") as response:
        response.direct_passthrough = False
        assert response.status_code == 200
        data = response.get_data()
    folder = tmp_path / "pack"
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        pack.extractall(folder)
    return folder


@pytest.fixture
def offline_page(browser):
    context = browser.new_context(locale="en-US", java_script_enabled=False, offline=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def images_loaded(page) -> list[tuple[str, int]]:
    return page.eval_on_selector_all(
        "img", "images => images.map(i => [i.getAttribute('src'), i.naturalWidth])"
    )


def test_a_pack_reads_from_files_with_no_script_and_no_network(unpacked, offline_page):
    page = offline_page
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    index = (unpacked / "index.html").as_uri()

    page.goto(index)
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Songs of the river"
    assert page.locator("html").get_attribute("lang") == "en"
    assert "As of" in page.locator("footer").inner_text()
    thumbs = images_loaded(page)
    assert len(thumbs) == 2 and all(width > 0 for _src, width in thumbs), thumbs
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px", (
        "the copied stylesheet applies"
    )

    page.get_by_role("link", name="Paper boats").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/pieces/2.html")
    assert page.locator("h1").get_attribute("lang") == "hi"
    pictures = images_loaded(page)
    assert len(pictures) == 1 and pictures[0][1] > 0, pictures

    page.get_by_role("link", name="Next piece").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/pieces/3.html")
    assert images_loaded(page)[0][1] > 0

    page.get_by_role("link", name="All pieces").click()
    page.wait_for_load_state("load")
    assert page.url == index
    page.get_by_role("link", name=f"{MARKER} morning walk").click()
    page.wait_for_load_state("load")
    assert "Walk before the house wakes." in page.locator("article").inner_text()
    page.get_by_role("link", name="← Songs of the river").click()
    page.wait_for_load_state("load")
    assert page.url == index

    assert requested and all(url.startswith("file://") for url in requested), requested
