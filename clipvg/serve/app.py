"""The HTTP layer of ``clipvg serve`` (Starlette): the page, its static files, a JSON API and a
server-sent-event stream per job. Every route only calls ``Service``; ``AccessGuard`` wraps them all.

Routes (all under the access token when one is set):
  GET  /                                   the editor page
  GET  /static/...                         its script and style sheet
  GET  /api/info                           devices, model state, queue, limits, defaults, examples
  POST /api/documents?name=&rounds=&max_size=   upload (raw body): SVG read now, photos vectorized by a job
  POST /api/examples/{name}                open a bundled example
  GET  /api/documents/{doc}                the document: versions, canvas size, current job
  DELETE /api/documents/{doc}              remove it from the work directory
  GET  /api/documents/{doc}/versions/{n}/{svg|png|pdf|zip}   downloads (zip: one PNG + SVG per layer)
  POST /api/documents/{doc}/edits          start an edit (JSON), answers the queued job
  POST /api/documents/{doc}/versions/{n}/continue            continue the edit that made version n
  GET  /api/jobs/{job}                     a job's state
  GET  /api/jobs/{job}/events              its live state and SVG previews (text/event-stream)
  POST /api/jobs/{job}/stop                cancel it while queued, stop it (result kept) while running
  POST /api/jobs/{job}/resume              continue an edit interrupted by a crash or restart from its checkpoint
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import json_text
from ..errors import ClipvgError
from ..limits import flag
from .security import AccessGuard, UploadError, megabytes, safe_stem
from .service import ServeConfig, Service
from .store import FORMATS, NotFound

log = logging.getLogger("clipvg.serve")
STATIC = Path(__file__).with_name("static")
EVENT_POLL = 0.1  # seconds between looks at a job's state in an event stream
HEARTBEAT = 15.0


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _service(request: Request) -> Service:
    return request.app.state.service


async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes without reading past it."""
    too_big = UploadError(413, f"the file is larger than this server's upload limit of {megabytes(limit)} "
                               f"(clipvg serve {flag('upload_bytes')})")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    return bytes(body)


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                        headers={"cache-control": "no-store"})


async def info(request: Request) -> Response:
    return JSONResponse(_service(request).info())


async def upload(request: Request) -> Response:
    service = _service(request)
    data = await _read_limited(request, service.config.max_upload_bytes)
    if not data:
        raise UploadError(400, "the upload is empty; send the file's bytes as the request body")
    params = request.query_params
    document, job = await run_in_threadpool(service.open_upload, data, params.get("name", "picture"),
                                            params.get("rounds"), params.get("max_size"))
    return JSONResponse({"document": document, "job": job and job.snapshot()}, status_code=201)


async def example(request: Request) -> Response:
    service = _service(request)
    params = request.query_params
    document, job = await run_in_threadpool(service.open_example, request.path_params["name"],
                                            params.get("rounds"), params.get("max_size"))
    return JSONResponse({"document": document, "job": job and job.snapshot()}, status_code=201)


async def document(request: Request) -> Response:
    service = _service(request)
    doc_id = request.path_params["doc"]
    if request.method == "DELETE":
        await run_in_threadpool(service.delete, doc_id)
        return JSONResponse({"deleted": doc_id})
    return JSONResponse(await run_in_threadpool(service.document, doc_id))


async def download(request: Request) -> Response:
    service = _service(request)
    doc_id, version, fmt = (request.path_params[k] for k in ("doc", "version", "fmt"))
    if fmt not in FORMATS:
        raise NotFound(f"no format {fmt!r}")
    path = await run_in_threadpool(service.export, doc_id, version, fmt)
    root = service.store.root
    if not path.resolve().is_relative_to(root):  # never, by construction; checked all the same
        raise NotFound("no such file")
    name = f"{safe_stem(service.store.get(doc_id)['name'])}-v{version}"
    name += "-layers.zip" if fmt == "zip" else f".{fmt}"
    headers = {"cache-control": "no-cache", "content-disposition": f'attachment; filename="{name}"'}
    if fmt == "svg":  # opened directly, an SVG is a document: allow it nothing active
        headers["content-security-policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return FileResponse(path, media_type=FORMATS[fmt], headers=headers)


async def _json_body(request: Request) -> dict:
    data = await _read_limited(request, 1024 * 1024)
    try:
        body = json_text.loads(data or b"{}")
    except ValueError:
        raise UploadError(400, "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise UploadError(400, "the request body must be a JSON object")
    return body


async def start_edit(request: Request) -> Response:
    body = await _json_body(request)
    job = await run_in_threadpool(_service(request).start_edit, request.path_params["doc"], body)
    return JSONResponse(job.snapshot(), status_code=202)


async def continue_edit(request: Request) -> Response:
    body = await _json_body(request)
    job = await run_in_threadpool(_service(request).continue_edit, request.path_params["doc"],
                                  request.path_params["version"], body.get("iterations"))
    return JSONResponse(job.snapshot(), status_code=202)


async def job_state(request: Request) -> Response:
    return JSONResponse(_service(request).job(request.path_params["job"]).snapshot())


async def stop_job(request: Request) -> Response:
    job = await run_in_threadpool(_service(request).stop, request.path_params["job"])
    return JSONResponse(job.snapshot())


async def resume_job(request: Request) -> Response:
    job = await run_in_threadpool(_service(request).resume, request.path_params["job"])
    return JSONResponse(job.snapshot(), status_code=202)


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def job_events(request: Request) -> Response:
    """Server-sent events: ``state`` (status, step, ETA, new losses, place in the queue) on every
    change, ``svg`` (the scene as clipvg's SVG) every few steps and at the end, then ``end``."""
    job = _service(request).job(request.path_params["job"])

    async def stream():
        sent_revision, sent_svg, sent_losses, sent_position = -1, 0, 0, None
        quiet = 0.0
        yield b"retry: 2000\n\n"
        while True:
            done = job.done
            if job.svg_revision != sent_svg and job.svg is not None:
                sent_svg = job.svg_revision
                yield _event("svg", {"svg": job.svg, "step": job.svg_step, "revision": sent_svg})
            position = job.queue.position(job) if job.queue else 0
            if job.revision != sent_revision or position != sent_position:
                sent_revision, sent_position = job.revision, position
                state = job.snapshot(sent_losses)
                sent_losses += len(state["losses"])
                yield _event("state", state)
                quiet = 0.0
            if done:
                yield _event("end", {"status": job.status})
                return
            await asyncio.sleep(EVENT_POLL)
            quiet += EVENT_POLL
            if quiet >= HEARTBEAT:
                quiet = 0.0
                yield b": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


async def _handle_clipvg(request: Request, error: Exception) -> Response:
    return _error(413 if getattr(error, "limit", None) else 400, str(error))  # over a ResourceLimits limit: 413


async def _handle_upload(request: Request, error: UploadError) -> Response:
    return _error(error.status, error.message)


async def _handle_not_found(request: Request, error: Exception) -> Response:
    return _error(404, str(error))


async def _handle_http(request: Request, error: HTTPException) -> Response:
    return _error(error.status_code, error.detail or "error")


async def _handle_other(request: Request, error: Exception) -> Response:
    log.exception("request %s failed", request.url.path)
    return _error(500, f"internal error: {type(error).__name__}: {error}")


def create_app(config: ServeConfig | None = None, **settings) -> Starlette:
    """The ASGI app for ``config`` (or ``ServeConfig(**settings)``), its ``Service`` in
    ``app.state.service``, started and stopped with the app's lifespan. Serving a host other than
    loopback without a token is refused."""
    from .security import is_loopback

    config = config or ServeConfig(**settings)
    if config.token is None and not is_loopback(config.host):
        raise ValueError(f"serving {config.host} needs an access token (see security.resolve_token)")
    service = Service(config)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        service.start()
        try:
            yield
        finally:
            await run_in_threadpool(service.close)

    doc, version = "/api/documents/{doc}", "/versions/{version:int}"
    routes = [
        Route("/", index),
        Route("/api/info", info),
        Route("/api/documents", upload, methods=["POST"]),
        Route("/api/examples/{name}", example, methods=["POST"]),
        Route(doc, document, methods=["GET", "DELETE"]),
        Route(doc + version + "/{fmt}", download),
        Route(doc + "/edits", start_edit, methods=["POST"]),
        Route(doc + version + "/continue", continue_edit, methods=["POST"]),
        Route("/api/jobs/{job}", job_state),
        Route("/api/jobs/{job}/events", job_events),
        Route("/api/jobs/{job}/stop", stop_job, methods=["POST"]),
        Route("/api/jobs/{job}/resume", resume_job, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {ClipvgError: _handle_clipvg, UploadError: _handle_upload, NotFound: _handle_not_found,
                HTTPException: _handle_http, Exception: _handle_other}
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    app.state.service = service
    app.state.config = config
    guarded = AccessGuard(app, config.token)
    guarded.state = app.state  # tests and the CLI reach the service through the outer app too
    return guarded
