"""``clipvg serve [--host H] [--port P] [--token T] [...]``: the interactive web editor.

Binds 127.0.0.1 by default; on any other host an access token is required (generated and printed,
like Jupyter's, unless ``--token`` is given). Needs the ``serve`` extra: pip install -e '.[serve]'.
"""
from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from ..errors import BackendUnavailableError, InvalidInputError
from ..limits import exported, resource_limits
from .edit_command import add_clip_options

SWITCH_INTERVAL = 0.001  # seconds a thread may hold the GIL while another waits (Python's default 0.005)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = sub.add_parser("serve", help="the interactive web editor (draw boxes, watch edits live)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; any other needs the access token)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--token", help="access token to require (default: none on 127.0.0.1, a random one "
                                        "printed at start-up on any other host)")
    parser.add_argument("--work-dir", type=Path,
                        help="where documents and results are kept (default ~/.cache/clipvg/serve)")
    add_clip_options(parser)
    parser.add_argument("--device", action="append", default=[], metavar="DEVICE",
                        help="cpu, cuda or cuda:N; repeat for one edit queue worker per GPU "
                             "(default: cuda when available)")
    parser.add_argument("--iterations", type=int, default=150, help="the page's default iterations (150)")
    parser.add_argument("--patches", type=int, default=64, help="the page's default patches per ROI (64)")
    parser.add_argument("--preview-interval", type=float, default=0.5,
                        help="seconds between live SVG updates of a running edit (default 0.5)")
    parser.add_argument("--checkpoint-steps", type=int, default=10, metavar="N",
                        help="a running edit saves its checkpoint every N steps (default 10; 0: off) ...")
    parser.add_argument("--checkpoint-seconds", type=float, default=30.0, metavar="S",
                        help="... and every S seconds (default 30; 0: off); an edit cut short by a crash "
                             "resumes from it")
    parser.add_argument("--keep-days", type=float, default=7.0, metavar="D",
                        help="delete documents untouched for D days (default 7; 0: keep them for ever)")
    parser.add_argument("--no-preload", action="store_true", help="load CLIP at the first edit, not at start-up")
    parser.add_argument("--worker-threads", type=int, metavar="N",
                        help="CPU threads of each worker process that runs edits and vectorizes (default: the "
                             "cores less one, at least 1, so the server keeps a core to answer requests)")
    return parser


def urls(host: str, port: int, token: str | None) -> list[str]:
    """The addresses to print: the host itself, and for a wildcard host the local names too."""
    suffix = f"/?token={token}" if token else "/"
    if host in ("0.0.0.0", "::", ""):
        names = [socket.gethostname(), "127.0.0.1"]
    else:
        names = [f"[{host}]" if ":" in host else host]
    return [f"http://{name}:{port}{suffix}" for name in names]


def run(args: argparse.Namespace) -> None:
    try:
        import uvicorn

        from ..serve import ServeConfig, create_app
        from ..serve.net import listening_socket
        from ..serve.security import resolve_token
    except ImportError as error:
        raise BackendUnavailableError(f"clipvg serve needs its web extra ({error.name} is missing): "
                                      "pip install -e '.[serve]'") from None
    if args.iterations < 1 or args.patches < 0:
        raise InvalidInputError("--iterations must be at least 1 and --patches at least 0")
    if min(args.checkpoint_steps, args.checkpoint_seconds, args.keep_days) < 0:
        raise InvalidInputError("--checkpoint-steps, --checkpoint-seconds and --keep-days must be 0 or more")
    limits = resource_limits()  # the --max-<limit> flags over the environment (cli.main's using)
    try:
        token, generated = resolve_token(args.host, args.token)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None
    settings = dict(host=args.host, token=token, clip_model=args.clip_model, clip_weights=args.clip_weights,
                    devices=tuple(args.device), max_upload_bytes=limits.upload_bytes,
                    max_pixels=round(limits.megapixels * 1e6), limits=limits,
                    preview_interval=args.preview_interval, preload=not args.no_preload,
                    checkpoint_steps=args.checkpoint_steps or None, checkpoint_seconds=args.checkpoint_seconds or None,
                    keep_days=args.keep_days)
    if args.worker_threads is not None:
        settings["worker_threads"] = args.worker_threads
    if args.work_dir is not None:
        settings["work_dir"] = args.work_dir
    config = ServeConfig(**settings)
    config.defaults.update(iterations=args.iterations, patches=args.patches)
    app = create_app(config)
    sock = listening_socket(args.host, args.port)
    port = sock.getsockname()[1]
    config.port = port
    lines = ["clipvg serve: the editor is running at"] + [f"    {url}" for url in urls(args.host, port, token)]
    if generated:
        lines.append("  (an access token is required on this host; it was generated for this run: "
                     "open the URL above, or pass --token)")
    kept = f"documents kept {args.keep_days:g} days" if args.keep_days else "documents kept for ever"
    lines.append(f"  work directory {config.work_dir} ({kept}); model {args.clip_model} ({args.clip_weights}) on "
                 f"{', '.join(config.devices)}; Ctrl-C stops")
    print("\n".join(lines), flush=True)
    # the event loop shares the GIL with the threads that wait for the workers: let it in every 1 ms, not 5
    sys.setswitchinterval(SWITCH_INTERVAL)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    try:
        with exported(limits):  # serve's worker processes (uploads, edits) start with these limits
            server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then re-raises Ctrl-C: the normal way to stop
        pass
    finally:
        sock.close()
    print("clipvg serve: stopped", file=sys.stderr)
