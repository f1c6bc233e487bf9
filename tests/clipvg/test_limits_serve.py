"""The web editor answers 413 with one line for uploads over the shared resource limits."""
from __future__ import annotations

from bad_corpus import png_header
from serve_helpers import make_app, require_modules, serve_client, tiny_png, upload

require_modules("starlette", "uvicorn", "httpx")

from clipvg.limits import resource_limits  # noqa: E402
from clipvg.serve import ServeConfig  # noqa: E402


def test_serve_defaults_are_the_shared_limits(tmp_path):
    config = ServeConfig(work_dir=tmp_path)
    limits = resource_limits()
    assert config.max_upload_bytes == limits.upload_bytes and config.max_pixels == round(limits.megapixels * 1e6)


def test_oversized_uploads_get_413(tmp_path):
    nested = ('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">' + "<g>" * 1200
              + '<rect width="5" height="5"/>' + "</g>" * 1200 + "</svg>")
    with serve_client(make_app(tmp_path)) as client:
        assert upload(client, tiny_png(), "ok.png").status_code == 201
        bomb = upload(client, png_header(30000, 30000), "bomb.png")  # 900 MP: over Pillow's own limit
        assert bomb.status_code == 413 and "megapixels" in bomb.json()["error"]
        deep = upload(client, nested)
        assert deep.status_code == 413 and "group_depth limit" in deep.json()["error"]
