"""``clipvg serve``'s security rules: the access token, host and origin checks, the upload limit,
content sniffing, uploaded SVGs reduced to clipvg's own SVG, no entity/URL/local file ever fetched,
entity bombs refused quickly, and download paths that cannot leave the work directory."""
from __future__ import annotations

import gzip
import re
import socket
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from serve_helpers import make_app, require_modules, serve_client, tiny_png, tiny_svg, upload, wait_job  # noqa: E402

require_modules("starlette", "uvicorn", "httpx")

from clipvg.serve import ServeConfig, create_app  # noqa: E402
from clipvg.serve.security import cookie_name, resolve_token, safe_stem, sniff  # noqa: E402

TOKEN = "s3cret-token"
SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
# what clipvg's writer may emit: drawing elements only (nothing that runs, links out or embeds)
DRAWING_TAGS = {"svg", "defs", "g", "path", "linearGradient", "radialGradient", "stop", "clipPath", "mask",
                "filter", "feGaussianBlur", "feOffset", "feFlood", "feComposite", "feMerge", "feMergeNode",
                "feColorMatrix", "feBlend", "title", "desc", "metadata"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with serve_client(make_app(tmp_path_factory.mktemp("serve-security"))) as client:
        yield client


def served_svg(client, markup: str | bytes) -> str:
    answer = upload(client, markup, "upload.svg")
    assert answer.status_code == 201, answer.text
    return client.get(f"/api/documents/{answer.json()['document']['id']}/versions/0/svg").text


# --- the access token ---------------------------------------------------------------------------------

def test_token_rules() -> None:
    assert resolve_token("127.0.0.1", None) == (None, False)
    assert resolve_token("localhost", None) == (None, False)
    assert resolve_token("::1", None) == (None, False)
    token, generated = resolve_token("0.0.0.0", None)
    assert generated and re.fullmatch(r"[0-9a-f]{48}", token)
    assert resolve_token("0.0.0.0", None)[0] != token
    assert resolve_token("192.168.1.5", "mine") == ("mine", False)
    with pytest.raises(ValueError):
        resolve_token("0.0.0.0", "  ")
    with pytest.raises(ValueError, match="token"):
        create_app(ServeConfig(host="0.0.0.0", work_dir="unused"))


ENDPOINTS = [("GET", "/"), ("GET", "/static/app.js"), ("GET", "/api/info"), ("POST", "/api/documents"),
             ("POST", "/api/examples/house"), ("GET", "/api/documents/" + "0" * 32),
             ("DELETE", "/api/documents/" + "0" * 32), ("GET", "/api/documents/" + "0" * 32 + "/versions/0/svg"),
             ("POST", "/api/documents/" + "0" * 32 + "/edits"),
             ("POST", "/api/documents/" + "0" * 32 + "/versions/0/continue"), ("GET", "/api/jobs/x"),
             ("GET", "/api/jobs/x/events"), ("POST", "/api/jobs/x/stop"), ("GET", "/no/such/page")]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("serve-token"), host="0.0.0.0", token=TOKEN)
    with serve_client(app, base_url="http://192.168.7.7:8765") as client:
        yield client


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_every_request_needs_the_token(guarded, method, path) -> None:
    missing = guarded.request(method, path)
    assert missing.status_code == 401 and "token" in missing.json()["error"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = guarded.request(method, path, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert guarded.request(method, path, params={"token": "nope"}).status_code == 403
    assert guarded.request(method, path, headers={"cookie": f"{cookie_name(8765)}=nope"}).status_code == 403
    right = guarded.request(method, path, headers={"authorization": f"Bearer {TOKEN}"})
    assert right.status_code not in (401, 403)


def test_token_in_the_url_sets_a_cookie(guarded) -> None:
    first = guarded.get("/", params={"token": TOKEN, "x": "1"}, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/?x=1"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(8765)}={TOKEN};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = guarded.get("/", headers={"cookie": f"{cookie_name(8765)}={TOKEN}"})
    assert page.status_code == 200 and "clipvg" in page.text
    api = guarded.get("/api/info", params={"token": TOKEN})  # API calls with ?token= are answered directly
    assert api.status_code == 200
    assert guarded.get("/api/info", headers={"authorization": f"token {TOKEN}"}).status_code == 200


def test_loopback_without_token_answers_only_loopback_names(client) -> None:
    assert client.get("/api/info").status_code == 200
    for host in ("localhost:8765", "127.0.0.1", "[::1]:8765"):
        assert client.get("/api/info", headers={"host": host}).status_code == 200
    for host in ("evil.example", "evil.example:8765", "192.168.1.2:8765"):  # DNS rebinding
        answer = client.get("/api/info", headers={"host": host})
        assert answer.status_code == 403 and "localhost" in answer.json()["error"]


def test_cross_site_requests_are_refused(client) -> None:
    for origin in ("http://evil.example", "null", "http://127.0.0.1:9999"):
        answer = client.post("/api/examples/house", headers={"origin": origin})
        assert answer.status_code == 403 and "cross-site" in answer.json()["error"]
    assert client.post("/api/examples/house", headers={"origin": "http://127.0.0.1"}).status_code == 201
    assert client.get("/api/info", headers={"origin": "http://evil.example"}).status_code == 200  # reads: CORS


# --- uploads --------------------------------------------------------------------------------------------

def test_upload_limit(tmp_path) -> None:
    assert ServeConfig(work_dir=tmp_path).max_upload_bytes == 25 * 1024 * 1024
    with serve_client(make_app(tmp_path, max_upload_bytes=4000)) as client:
        answer = upload(client, tiny_svg() + " " * 4000)
        assert answer.status_code == 413 and "upload limit" in answer.json()["error"]

        def chunks():  # no Content-Length: the limit holds while streaming
            for _ in range(10):
                yield b"<svg>" + b" " * 1000

        streamed = client.post("/api/documents", content=chunks())
        assert streamed.status_code == 413
        assert upload(client, tiny_svg()).status_code == 201
        bomb = gzip.compress(b"<svg xmlns='http://www.w3.org/2000/svg'>" + b" " * 3_000_000 + b"</svg>")
        assert len(bomb) < 4000
        answer = upload(client, bomb, "bomb.svgz")
        assert answer.status_code == 413 and "expands" in answer.json()["error"]


def test_default_limit_is_25_mb(client) -> None:
    too_big = b"\x89PNG\r\n\x1a\n" + bytes(25 * 1024 * 1024)
    answer = upload(client, too_big, "big.png")
    assert answer.status_code == 413 and "25.0 MB" in answer.json()["error"]


def test_files_are_recognised_by_content(client) -> None:
    assert sniff(tiny_png()) == "png" and sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "webp" and sniff(b"\xef\xbb\xbf  <?xml?><svg>") == "svg"
    svg_named_png = upload(client, tiny_svg(), "photo.png")
    assert svg_named_png.status_code == 201 and svg_named_png.json()["job"] is None
    png_named_svg = upload(client, tiny_png(), "drawing.svg", rounds="2", max_size="24")
    assert png_named_svg.status_code == 201 and png_named_svg.json()["job"]["kind"] == "vectorize"
    wait_job(client, png_named_svg.json()["job"]["id"])
    for data, name in ((b"hello world", "a.png"), (b"GIF89a....", "a.gif"), (b"%PDF-1.4", "a.svg"),
                       (b"<html><body>hi</body></html>", "a.svg")):
        answer = upload(client, data, name)
        assert answer.status_code == 415 and "recognised by their content" in answer.json()["error"]
    corrupt = upload(client, b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "a.png")
    assert corrupt.status_code == 400 and "cannot decode" in corrupt.json()["error"]
    html = upload(client, "<html><svg xmlns='http://www.w3.org/2000/svg'><rect width='5' height='5'/></svg></html>")
    assert html.status_code == 400 and "<html>" in html.json()["error"]
    assert upload(client, "<svg xmlns='http://www.w3.org/2000/svg'><rect").status_code == 400
    empty = upload(client, "<svg xmlns='http://www.w3.org/2000/svg' width='9' height='9'><desc>nothing to draw</desc></svg>")
    assert empty.status_code == 400 and "no shapes" in empty.json()["error"]


def test_photo_pixel_limit(tmp_path) -> None:
    with serve_client(make_app(tmp_path, max_pixels=100)) as client:
        answer = upload(client, tiny_png(24), "big.png")
        assert answer.status_code == 413 and "megapixels" in answer.json()["error"]


# --- what an uploaded SVG may do --------------------------------------------------------------------------

HOSTILE = """<?xml version="1.0"?>
<?xml-stylesheet href="http://evil.example/sheet.css" type="text/css"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://evil.example/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="32" height="32"
     onload="alert('onload')">
  <style>@import url("http://evil.example/import.css"); rect {{ fill: url(http://evil.example/p.svg#p) }}</style>
  <script>alert('script')</script>
  <script xlink:href="http://evil.example/evil.js"/>
  <a xlink:href="javascript:alert('link')"><rect width="32" height="32" fill="#ffffff" onclick="alert('click')"/></a>
  <image href="http://evil.example/photo.png" width="10" height="10"/>
  <image xlink:href="file://{secret}" width="10" height="10"/>
  <image href="{secret_png}" width="10" height="10"/>
  <image href="{secret}" width="10" height="10"/>
  <use xlink:href="http://evil.example/remote.svg#shape"/>
  <use xlink:href="file://{secret}#secret"/>
  <use href="{secret_name}#secret"/>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">html</div></foreignObject>
  <iframe src="http://evil.example/"/>
  <circle cx="16" cy="16" r="8" fill="url(#grad)" style="fill: #00ff00; behavior: url(evil.htc)"/>
  <animate attributeName="fill" to="red" begin="0s" dur="1s"/>
  <set attributeName="onmouseover" to="alert('set')"/>
</svg>"""


def test_only_clipvgs_rewritten_svg_is_sent_back(client, tmp_path, monkeypatch) -> None:
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><path id="secret" d="M0 0 L9 0 L9 9 Z" '
                      'fill="#13579b"/></svg>')
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connections.append(a))
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: connections.append(a))
    monkeypatch.chdir(tmp_path)  # a relative reference would find the secret here
    secret_png = tmp_path / "secret.png"  # an absolute name: the reader would open it, and embed it, but for serve
    Image.fromarray(np.full((4, 4, 3), (19, 87, 155), np.uint8)).save(secret_png)
    svg = served_svg(client, HOSTILE.format(secret=secret, secret_name=secret.name, secret_png=secret_png))
    assert connections == []
    for element in ET.fromstring(svg).iter():
        assert element.tag.removeprefix(SVG_NS) in DRAWING_TAGS, element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on") and name != "style", (name, value)
            if name in ("href", XLINK + "href"):
                assert value.startswith("#"), value  # only references inside the document
            for reference in re.findall(r"url\(\s*['\"]?([^)'\"]*)", value):
                assert reference.startswith("#"), value
    for word in ("evil", "alert", "script", "javascript", "13579b", "secret", "import", "onload", "html"):
        assert word not in svg.lower()
    assert svg.count("<path") == 2  # the white rect and the green circle


@pytest.mark.parametrize("markup", [
    # billion laughs: 10^9 "lol"s if expanded
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    + ']><svg xmlns="http://www.w3.org/2000/svg"><title>&i;</title><rect width="9" height="9"/></svg>',
    # quadratic blow-up: one long entity referenced many times
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "' + "x" * 50000 + '">]><svg xmlns="http://www.w3.org/2000/svg">'
    + "<desc>" + "&a;" * 50000 + "</desc><rect width='9' height='9'/></svg>",
    # external entity (XXE): a local file
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><desc>&x;</desc><rect width="9" height="9"/></svg>',
    # external parameter entity: a URL
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>',
    # unparsed entity
    '<?xml version="1.0"?><!DOCTYPE svg [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "http://evil.example/" NDATA n>]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>',
], ids=["billion-laughs", "quadratic", "xxe-file", "external-parameter-entity", "unparsed-entity"])
def test_entities_are_refused_quickly(client, markup, monkeypatch) -> None:
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    start = time.perf_counter()
    answer = upload(client, markup)
    assert time.perf_counter() - start < 2.0
    assert answer.status_code == 400 and "entities" in answer.json()["error"]
    assert "root:" not in answer.text and connections == []


def test_doctype_without_entities_is_fine(client) -> None:
    svg = served_svg(client, '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                             '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg" '
                             'width="9" height="9"><rect width="9" height="9" fill="#ff0000"/></svg>')
    assert "DOCTYPE" not in svg and "#ff0000" in svg


# --- names and paths -------------------------------------------------------------------------------------

def test_download_names_cannot_escape_the_work_dir(client) -> None:
    answer = upload(client, tiny_svg(), '../../etc/pass"wd\r\nX-Evil: 1.svg')
    doc = answer.json()["document"]["id"]
    download = client.get(f"/api/documents/{doc}/versions/0/svg")
    assert download.headers["content-disposition"] == 'attachment; filename="pass_wd_X-Evil_1-v0.svg"'
    assert "x-evil" not in download.headers
    for path in (f"/api/documents/{doc}/versions/0/..%2F..%2F..%2Fdocument.json",
                 f"/api/documents/{doc}/versions/0/document.json",
                 f"/api/documents/{doc}/versions/-1/svg",
                 f"/api/documents/{doc}/versions/0%2F..%2F0/svg",
                 "/api/documents/..%2F..%2F..%2Fetc/versions/0/svg",
                 "/api/documents/%2E%2E/versions/0/svg",
                 "/api/documents/" + "0" * 32 + "/versions/0/svg",
                 "/api/documents/" + "A" * 32 + "/versions/0/svg",
                 "/static/..%2F..%2Fserve%2Fservice.py", "/static/../service.py", "/static/%2e%2e/app.py"):
        assert client.get(path).status_code == 404, path
    work = client.app.state.service.store.root
    assert not any(p.name == "document.json" for p in work.iterdir())


def test_safe_stem() -> None:
    assert safe_stem("../../a b/ç.svg") == "picture"
    assert safe_stem("C:\\Users\\me\\photo.final.png") == "photo_final"
    assert safe_stem("") == "picture" and len(safe_stem("x" * 300)) == 60
