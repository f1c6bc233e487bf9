"""``clipvg serve`` end to end in a real browser: Playwright drives the system Chromium (nothing is
downloaded) against a live server with the project's shapes CLIP on a 32 px canvas. The page is
used the way a person would: open an SVG, draw a box with the mouse, start an edit, watch the SVG
change, stop, continue, pick versions and download the result; a photo is in the address while it
is vectorized; a real server killed mid-edit and started again: the open page reconnects by itself,
says where the edit was interrupted and resumes it."""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import (CHROMIUM, CHROMIUM_ARGS, edit_request, free_port, make_app, require_browser,  # noqa: E402
                           require_modules, serve_process, tiny_png, tiny_svg)

require_modules("starlette", "uvicorn", "httpx")
require_browser()

import httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from serve_helpers import live_server  # noqa: E402

import clipvg  # noqa: E402

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    with live_server(make_app(tmp_path_factory.mktemp("serve-browser"))) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, base_url):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []  # no script error in the page


@pytest.fixture()
def api(base_url):
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


def open_page(page, base_url: str, fragment: str = "") -> None:
    page.goto(base_url + "/" + fragment)
    page.wait_for_selector("body[data-ready=true]")


def drag(page, start: tuple[float, float], end: tuple[float, float], box=None) -> None:
    """Drag the mouse between two points given as fractions of ``box`` (default the picture)."""
    box = box or page.locator("#overlay").bounding_box()
    x0, y0 = box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"]
    x1, y1 = box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=6)
    page.mouse.up()


def roi_rect(page) -> tuple[float, float, float, float]:
    rect = page.locator("#overlay .roi rect.box")
    return tuple(float(rect.get_attribute(name)) for name in ("x", "y", "width", "height"))


def wait_until(condition, timeout: float = TIMEOUT_MS / 1000, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def new_document(api, svg: str = tiny_svg()) -> str:
    answer = api.post("/api/documents", params={"name": "tiny.svg"}, content=svg.encode())
    assert answer.status_code == 201, answer.text
    return answer.json()["document"]["id"]


def test_open_draw_edit_stop_download(page, base_url, api, tmp_path) -> None:
    source = tmp_path / "tiny.svg"
    source.write_text(tiny_svg())
    open_page(page, base_url)
    page.set_input_files("#file", str(source))
    page.wait_for_selector("#picture svg")
    assert page.locator("#layer-list input").count() == 3
    original = page.inner_html("#picture")

    drag(page, (0.1, 0.1), (0.6, 0.6))
    assert page.locator("#roi-list li").count() == 1
    assert roi_rect(page) == pytest.approx((3, 3, 16, 16), abs=1)
    page.keyboard.type("a green square")  # the new box's prompt has the focus
    page.fill("#prompt", "a blue circle")
    page.fill("#iterations", "5")
    page.fill("#patches", "1")
    page.click("#start")

    wait_until(lambda: page.inner_html("#picture") != original, what="the SVG in the page to change")
    try:
        page.click("#stop", timeout=1000)
    except Exception:  # the 5 steps were already done
        pass
    page.wait_for_selector("#version-list li:nth-child(2)")
    wait_until(lambda: page.inner_text("#progress-text").startswith(("Edit stopped", "Edit finished")),
               what="the edit to end")
    assert page.locator("#progress").get_attribute("value") is not None
    assert "loss" in page.inner_text("#progress-text")

    doc = page.url.split("#doc=")[1].split("&")[0]
    version = api.get(f"/api/documents/{doc}").json()["versions"][1]
    assert version["options"]["rois"] == [[[3, 3, 16, 16], "a green square"]]
    assert version["options"]["prompt"] == "a blue circle" and version["total"] == 5

    with page.expect_download() as download:
        page.click("#dl-svg")
    assert download.value.suggested_filename == "tiny-v1.svg"
    edited, before = clipvg.load_svg(download.value.path()), clipvg.load_svg(str(source))
    assert edited.num_paths == before.num_paths and edited.layer_names == before.layer_names
    assert not torch.allclose(edited.points, before.points, atol=1e-3) or \
        not torch.allclose(edited.fill_color, before.fill_color, atol=1e-3)


def test_boxes_move_resize_delete_and_layers_hide(page, base_url, api) -> None:
    open_page(page, base_url, f"#doc={new_document(api)}")
    page.wait_for_selector("#picture svg")
    drag(page, (0.1, 0.1), (0.4, 0.4))
    x, y, w, h = roi_rect(page)
    assert (w, h) == pytest.approx((10, 10), abs=1)

    drag(page, (0.25, 0.25), (0.55, 0.45))  # move, by dragging inside the box
    moved = roi_rect(page)
    assert moved == pytest.approx((x + 9.6, y + 6.4, w, h), abs=1)

    handle = page.locator("#overlay .roi rect.handle").bounding_box()
    drag(page, (0.5, 0.5), (0.5 + 150 / handle["width"], 0.5), box=handle)  # resize from the corner
    resized = roi_rect(page)
    assert resized[:2] == moved[:2] and resized[2] > moved[2] + 5 and resized[3] == moved[3]

    drag(page, (0.05, 0.8), (0.2, 0.95))  # a second box
    assert page.locator("#roi-list li").count() == 2
    page.click("#roi-list li:nth-child(2) button")  # the × of box 2
    assert page.locator("#overlay .roi").count() == 1
    drag(page, (0.45, 0.3), (0.45, 0.3))  # a click selects the box without moving it
    assert roi_rect(page) == resized
    page.keyboard.press("Delete")
    assert page.locator("#overlay .roi").count() == 0 and page.locator("#roi-list li").count() == 0
    drag(page, (0.5, 0.5), (0.51, 0.51))  # too small to be a box
    assert page.locator("#overlay .roi").count() == 0

    page.uncheck("#layer-list input[data-layer=circle]")
    assert "none" in page.locator("#picture svg > g").nth(1).get_attribute("style")
    page.check("#layer-list input[data-layer=circle]")
    assert "none" not in (page.locator("#picture svg > g").nth(1).get_attribute("style") or "")


def test_history_continue_and_photos(page, base_url, api, tmp_path) -> None:
    doc = new_document(api)
    job = api.post(f"/api/documents/{doc}/edits", json=edit_request(iterations=1)).json()
    while api.get(f"/api/jobs/{job['id']}").json()["status"] != "finished":
        time.sleep(0.05)
    open_page(page, base_url, f"#doc={doc}")
    page.wait_for_selector("#version-list li:nth-child(2) button.selected")
    assert "1/1 steps" in page.inner_text("#version-list li:nth-child(2)")
    page.fill("#iterations", "1")
    page.click("#continue")
    page.wait_for_selector("#version-list li:nth-child(3) button.selected")
    assert "2/2 steps" in page.inner_text("#version-list li:nth-child(3)")

    page.click("#version-list li:nth-child(1) button")  # back to the original: edit on from there
    assert page.get_attribute("#dl-svg", "href").endswith("/versions/0/svg")
    v0 = clipvg.load_svg(api.get(f"/api/documents/{doc}/versions/0/svg").text)
    wait_until(lambda: page.locator("#picture svg path").first.get_attribute("d") is not None)
    assert page.locator("#picture svg path").count() == v0.num_paths
    assert page.is_disabled("#continue")  # the original is no edit to continue

    photo = tmp_path / "photo.png"
    photo.write_bytes(tiny_png())
    page.fill("#rounds", "2")
    page.fill("#max-size", "24")
    page.set_input_files("#file", str(photo))
    page.wait_for_selector("#layer-list input[data-layer=round-1-2colors]")

    junk = tmp_path / "notes.png"
    junk.write_text("not a picture")
    page.set_input_files("#file", str(junk))
    wait_until(lambda: "recognised by their content" in page.inner_text("#message"), what="the error message")


def test_queue_place_and_cancel(page, base_url, api) -> None:
    busy = api.post(f"/api/documents/{new_document(api)}/edits", json=edit_request(iterations=1000)).json()
    try:
        open_page(page, base_url, f"#doc={new_document(api)}")
        page.wait_for_selector("#picture svg")
        page.fill("#prompt", "a blue circle")
        page.click("#start")
        wait_until(lambda: "place 1 of 1" in page.inner_text("#progress-text"), what="the place in the queue")
        assert page.inner_text("#stop") == "Cancel"
        page.click("#stop")
        wait_until(lambda: page.inner_text("#message") == "Cancelled.", what="the cancellation")
        assert page.is_enabled("#start")
    finally:
        api.post(f"/api/jobs/{busy['id']}/stop")


def test_a_token_protected_server(browser, tmp_path) -> None:
    token = "browser-token"
    with live_server(make_app(tmp_path, host="0.0.0.0", token=token)) as url:
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            assert page.goto(url + "/").status == 401
            page.goto(f"{url}/?token={token}")
            page.wait_for_selector("body[data-ready=true]")
            assert page.url == url + "/"  # the token left the address bar for a cookie
            page.click("#open-example")  # uploads, downloads and event streams go with the cookie
            page.wait_for_selector("#picture svg")
            page.fill("#prompt", "a blue house")
            page.fill("#iterations", "1")
            page.fill("#patches", "1")
            page.click("#start")
            page.wait_for_selector("#version-list li:nth-child(2) button.selected")
            assert "1/1 steps" in page.inner_text("#version-list li:nth-child(2)")
        finally:
            context.close()


def test_a_photo_is_in_the_address_while_it_is_vectorized(page, base_url, tmp_path) -> None:
    rng = np.random.default_rng(0)
    photo = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(photo)
    open_page(page, base_url)
    page.fill("#rounds", "4,8")
    page.fill("#max-size", "256")
    page.set_input_files("#file", str(photo))
    wait_until(lambda: page.evaluate("location.hash").startswith("#doc="), what="the document in the address")
    doc = page.evaluate("location.hash").split("#doc=")[1].split("&")[0]
    page.reload()  # while vectorizing, or just after: the document is there either way
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#layer-list input[data-layer=round-2-8colors]")
    assert page.url.split("#doc=")[1].split("&")[0] == doc
    assert "kept on the server until" in page.inner_text("#keep-note")


def test_a_killed_server_comes_back_and_the_page_resumes_the_edit(browser, tmp_path) -> None:
    work, port = tmp_path / "work", free_port()
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        with serve_process(work, port) as (process, url), httpx.Client(base_url=url, timeout=60) as api:
            doc = new_document(api)
            open_page(page, url, f"#doc={doc}")
            page.wait_for_selector("#picture svg")
            page.fill("#prompt", "a blue circle")
            page.fill("#iterations", "12")
            page.fill("#patches", "1")
            page.click("#start")
            wait_until(lambda: ((api.get(f"/api/documents/{doc}").json()["job"] or {}).get("checkpoint_step") or 0) >= 2,
                       what="the edit's second checkpoint")
            os.kill(process.pid, signal.SIGKILL)
            process.wait(30)
        wait_until(lambda: "reconnecting" in page.inner_text("#message"), what="the page to notice")
        assert page.is_hidden("#interrupted")
        with serve_process(work, port):  # the same address: the open page finds the server again
            page.wait_for_selector("#interrupted:not([hidden])")
            text = page.inner_text("#interrupted-text")
            step = int(text.split("step ")[1].split(" ")[0])
            assert text.startswith(f"Interrupted at step {step} of 12") and 2 <= step < 12
            assert page.inner_text("#message") == ""
            page.click("#resume")
            page.wait_for_selector("#version-list li:nth-child(2) button.selected")
            assert "12/12 steps" in page.inner_text("#version-list li:nth-child(2)")
            assert page.is_hidden("#interrupted")
    finally:
        context.close()
