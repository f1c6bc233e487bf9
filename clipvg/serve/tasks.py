"""The tasks a server worker process runs (``worker_main.TASKS``): each takes its arguments as plain
data, a ``report(kind, *values)`` that streams messages to the server and a ``cancel()`` that says
whether the server asked to stop, and returns plain data. Files are read from and written to the
work directory; decoded images, scenes and tensors never leave the worker.

A written SVG comes back with its ``shape`` ({paths, layers, width, height}), what the document's
version records.
"""
from __future__ import annotations

import io
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any, Callable

from ..edit import JobSpec
from ..edit.outputs import export_layers, write_scene
from ..errors import InvalidInputError, SVGParseError
from ..input_check import check_edit_canvas, check_svg
from ..limits import resource_limits, using
from ..scene import Scene
from ..svg import load_svg, save_svg
from ..svg.image_data import without_local_files
from .edits import run_edit
from .security import UploadError, check_svg_markup, gunzip_limited, sniff

Report = Callable[..., None]
Cancel = Callable[[], bool]
MAX_CANVAS = 8192  # px on a side of an uploaded SVG's canvas
_MODELS: dict[tuple[str, str | None, str], Any] = {}  # the CLIP models this worker loaded


def shape(scene: Scene) -> dict[str, Any]:
    """What a document's version records of ``scene``: its path count, layers and canvas (px)."""
    return {"paths": scene.num_paths, "layers": list(scene.layer_names), "width": float(scene.width),
            "height": float(scene.height)}


def photo_limits(max_pixels: int):
    """The resource limits with the server's photo size (``max_pixels``) as the megapixels limit."""
    return using(resource_limits().with_values({"megapixels": max_pixels / 1e6}))


def read_svg(args: dict[str, Any], report: Report, cancel: Cancel) -> dict[str, Any]:
    """``args["data"]`` (SVG bytes, gzipped when ``args["gzip"]``, at most ``max_bytes`` unzipped)
    checked for entities, read through clipvg's reader and checked as every edit's input
    (``clipvg.input_check``: its canvas within the limits of an edit) under the server's ``limits`` (limit
    name -> value), never the bytes themselves, and written by clipvg's writer to ``args["out"]``;
    UploadError for what the editor cannot take: 413 for what is over a limit, 400 with the reason for
    what is broken."""
    data = args["data"]
    if args["gzip"]:
        data = gunzip_limited(data, args["max_bytes"])
        if sniff(data) != "svg":
            raise UploadError(415, "the gzip file does not hold an SVG")
    check_svg_markup(data)
    out = Path(args["out"])
    path = out.with_name("upload.svg")
    path.write_bytes(data)
    try:
        with warnings.catch_warnings(), using(resource_limits().with_values(args["limits"])), without_local_files():
            warnings.simplefilter("ignore")
            read = check_svg(path)
            check_edit_canvas(read, "the SVG, edited at its canvas size")
            scene = read.to_scene()
    except (SVGParseError, InvalidInputError) as error:  # over a resource limit: 413
        status = 413 if getattr(error, "limit", None) else 400
        raise UploadError(status, str(error).replace(str(path), "the SVG")) from None
    except RecursionError:
        raise UploadError(400, "cannot read this SVG: its elements are nested too deeply") from None
    except Exception as error:  # svgelements raises many types on odd input
        raise UploadError(400, f"cannot read this SVG ({type(error).__name__})") from None
    finally:
        path.unlink(missing_ok=True)
    if scene.num_paths == 0:
        raise UploadError(400, "the SVG has no shapes clipvg can edit (text, images and filters are skipped)")
    if not (1 <= scene.width <= MAX_CANVAS and 1 <= scene.height <= MAX_CANVAS):
        raise UploadError(400 if min(scene.width, scene.height) < 1 else 413, f"the SVG canvas is {scene.width:g} x "
                          f"{scene.height:g} px; clipvg serve edits canvases from 1 to {MAX_CANVAS} px on a side")
    save_svg(scene, out)
    return shape(scene)


def vectorize_photo(args: dict[str, Any], report: Report, cancel: Cancel) -> dict[str, Any]:
    """The photo ``args["path"]`` decoded (at most ``max_pixels``), vectorized with ``rounds`` and
    ``max_size`` and written to ``args["out"]``."""
    import vectorize

    try:
        with warnings.catch_warnings(), photo_limits(args["max_pixels"]):
            warnings.simplefilter("ignore")
            scene = vectorize.vectorize(args["path"], rounds=tuple(args["rounds"]), max_size=args["max_size"])
    except (MemoryError, OSError) as error:
        raise UploadError(400, f"{type(error).__name__}; try a smaller max size") from None
    save_svg(scene, args["out"])
    return shape(scene)


def export(args: dict[str, Any], report: Report, cancel: Cancel) -> None:
    """The SVG ``args["svg"]`` as ``args["fmt"]`` (png, pdf, or zip of per-layer PNGs and SVGs) at
    ``args["target"]``."""
    from ..atomic import write_bytes_atomic

    scene = load_svg(args["svg"])
    if args["fmt"] == "zip":
        write_bytes_atomic(args["target"], _layers_zip(scene))
    else:
        write_scene(scene, args["target"])


def _layers_zip(scene: Scene) -> bytes:
    """A zip of ``export_layers``' files: one transparent PNG and one SVG per layer."""
    with tempfile.TemporaryDirectory() as folder:
        files = export_layers(scene, folder)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.name)
        return buffer.getvalue()


def load_model(args: dict[str, Any], report: Report, cancel: Cancel) -> None:
    """Load the CLIP model ``args`` name (model, weights, device) now, e.g. at start-up (``clip_model``)."""
    clip_model(args["model"], args["weights"], args["device"], report)


def clip_model(model: str, weights: str | None, device: str, report: Report):
    """The CLIP model, loaded once per worker; reports ("model", status, error, loaded now) so the
    server's page can show it. InvalidInputError when it cannot be loaded."""
    import losses

    key = (model, weights, device)
    if key not in _MODELS:
        report("model", "loading", "", False)
        try:
            _MODELS[key] = losses.load_clip(model, weights, device=device)
        except Exception as error:
            report("model", "failed", str(error), False)
            raise InvalidInputError(f"cannot load the CLIP model {model} with weights {weights}: {error} "
                                    "(restart clipvg serve with other --clip-model/--clip-weights)") from None
        report("model", "ready", "", True)
    return _MODELS[key]


def edit(args: dict[str, Any], report: Report, cancel: Cancel) -> dict[str, Any]:
    """The edit ``args["spec"]`` on ``args["device"]`` (``serve.edits.run_edit``), its steps, losses
    and previews reported as it runs; returns the EditOutcome as data, with the result's ``shape``."""
    spec = JobSpec.from_dict(args["spec"])
    try:
        clip = clip_model(spec.clip.model, spec.clip.weights, args["device"], report)
    except InvalidInputError as error:
        return {"status": "failed", "message": str(error), "svg_file": None}
    outcome = run_edit(spec, clip, args["device"], args["preview_interval"], report, cancel)
    result = outcome.to_dict()
    if outcome.svg_file is not None:
        result["shape"] = shape(load_svg(outcome.svg_file))
    return result
