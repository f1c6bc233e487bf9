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


def test_svg_uploads_over_the_point_limits_are_refused_before_the_worker(tmp_path, monkeypatch):
    from clipvg.serve.service import Service

    many = '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><path d="M0 0' + " L1.5 2.25" * 1200 + '"/></svg>'
    commented = many.replace("<path", "<!-- <path d='M1 2 3 4'/> --><path")
    with serve_client(make_app(tmp_path, limits=resource_limits().with_values({"points_per_path": 1000}))) as client:
        handed = []
        monkeypatch.setattr(Service, "_in_worker", staticmethod(lambda *args: handed.append(args)))
        answer = upload(client, commented)
        assert answer.status_code == 413 and not handed  # the worker never got the bytes
        assert answer.json()["error"].startswith("the SVG: the point count of <path> is at least 1,201, over the "
                                                 "points_per_path limit of 1,000; reduce it, or raise the limit with "
                                                 "--max-points-per-path N")
