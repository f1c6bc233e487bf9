"""Web editor benchmark: request latency of a real ``clipvg serve`` process beside a plain Starlette +
uvicorn app started the same way, then a burst of work, and the server's memory before and after it.
Prints one JSON object.

    python benchmarks/serve.py [--requests 200] [--info 500] [--clients 32] [--uploads 100] [--edits 12]
                               [--listeners 4] [--iterations 10] [--edit-size 64] [--cancels 6] [--source DIR]
                               [--plain-clients N] [--out FILE]

Latency (milliseconds, p50/p99): ``/api/info``, ``/`` and a static file, over one keep-alive
connection and over a fresh connection per request. The burst: ``--edits`` queued edits of the bundled
house drawing at ``--edit-size`` px (the project's shapes CLIP), ``--listeners`` event
streams on each, ``--uploads`` uploads (half SVG, half photos that are vectorized), ``--cancels``
large photos cancelled while queued, and ``--info`` ``/api/info`` requests from ``--clients``
keep-alive clients, all at once; meanwhile ``--plain-clients`` (default: as many) clients ask the plain
app's ``/api/info`` at the same pace: what the shared machine and this client alone cost under the burst.
Memory is the resident set of the server and its worker processes (and the server's alone):
after start-up (model loaded) and one warm-up upload, photo and edit, and after the burst's queue has
drained. ``meta`` has the load average (``uptime``) before and after. ``--source`` runs another
checkout's ``clipvg`` (to measure an older commit with this script); ``--out`` also writes the JSON there.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from json_result import print_and_save  # benchmarks/, before it leaves sys.path

# benchmarks/losses.py and benchmarks/vectorize.py would shadow the packages of the same names
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import psutil  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PLAIN_APP = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
async def info(request): return JSONResponse({"version": "0", "queue": {"running": 0, "waiting": 0}})
async def page(request): return HTMLResponse("<!DOCTYPE html><title>plain</title>")
app = Starlette(routes=[Route("/", page), Route("/api/info", info),
                        Mount("/static", StaticFiles(directory=sys.argv[1]))])
print("plain app: the editor is running at", flush=True)
print(f"    http://127.0.0.1:{sys.argv[2]}/", flush=True)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


# --- a minimal HTTP/1.1 client on asyncio streams (little client overhead in the figures) -------------

class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:``port``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"",
                      content_type: str = "application/octet-stream") -> tuple[int, bytes]:
        """(status, body); a connection the server closed while idle is opened again once."""
        reused = self.writer is not None
        if not reused:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {len(body)}\r\n"
        head += f"content-type: {content_type}\r\n\r\n" if body else "\r\n"
        self.writer.write(head.encode() + body)
        try:
            status, headers = await read_head(self.reader)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            if not reused:
                raise
            self.close()  # uvicorn closes keep-alive connections idle for 5 s
            return await self.request(method, path, body, content_type)
        if headers.get("transfer-encoding") == "chunked":
            data = await read_chunked(self.reader)
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection") == "close":
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers


async def read_chunked(reader: asyncio.StreamReader, until: bytes | None = None) -> bytes:
    """A chunked body, or (with ``until``) the chunks up to the first that holds ``until``."""
    data = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        data += chunk[:-2]
        if size == 0 or (until is not None and until in chunk):
            return bytes(data)


async def timed(port: int, path: str, count: int, keep_alive: bool) -> list[float]:
    """Seconds per GET of ``path``, one after another."""
    connection, times = Connection(port), []
    for _ in range(count):
        start = time.perf_counter()
        status, _ = await connection.request("GET", path)
        times.append(time.perf_counter() - start)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        if not keep_alive:
            connection.close()
    connection.close()
    return times


def summary(times: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p99_ms": round(p99 * 1000, 3),
            "count": len(ordered)}


async def latency(port: int, count: int) -> dict:
    result = {}
    for path in ("/api/info", "/", "/static/style.css"):
        await timed(port, path, 10, True)  # warm-up
        result[path] = {"keep_alive": summary(await timed(port, path, count, True)),
                        "fresh_connection": summary(await timed(port, path, count, False))}
    return result


# --- the burst -------------------------------------------------------------------------------------

def photo(size: int, seed: int) -> bytes:
    """A PNG of soft colour blobs, ``size`` px square."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    image = np.zeros((size, size, 3))
    for _ in range(4):
        cx, cy, r = rng.uniform(0.2, 0.8, 3) * (1, 1, 0.4)
        image += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / r ** 2)[..., None] * rng.uniform(0, 1, 3)
    buffer = io.BytesIO()
    Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


async def post_json(connection: Connection, path: str, data: dict) -> dict:
    status, body = await connection.request("POST", path, json.dumps(data).encode(), "application/json")
    if status >= 300:
        raise SystemExit(f"POST {path} answered {status}: {body[:300]!r}")
    return json.loads(body)


async def listen(port: int, job_id: str) -> bool:
    """Follow a job's event stream to its ``end`` event; whether it came."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /api/jobs/{job_id}/events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".encode())
    try:
        status, _ = await read_head(reader)
        return status == 200 and b"event: end" in await read_chunked(reader, until=b"event: end")
    finally:
        writer.close()


async def info_client(port: int, count: int, times: list[float]) -> None:
    """``count`` keep-alive GETs of /api/info, 10 ms apart; their seconds go to ``times``."""
    connection = Connection(port)
    for _ in range(count):
        start = time.perf_counter()
        status, _ = await connection.request("GET", "/api/info")
        times.append(time.perf_counter() - start)
        if status != 200:
            raise SystemExit(f"/api/info answered {status} under load")
        await asyncio.sleep(0.01)
    connection.close()


async def uploader(port: int, bodies: list[tuple[str, bytes]], times: list[float], jobs: list[str]) -> None:
    connection = Connection(port)
    for name, body in bodies:
        start = time.perf_counter()
        status, answer = await connection.request("POST", f"/api/documents?name={name}&rounds=4&max_size=48", body)
        times.append(time.perf_counter() - start)
        if status != 201:
            raise SystemExit(f"upload answered {status}: {answer[:300]!r}")
        job = json.loads(answer)["job"]
        if job:
            jobs.append(job["id"])
    connection.close()


async def drained(port: int, jobs: list[str], timeout: float) -> None:
    """Wait until no edit runs or waits and every job in ``jobs`` is done."""
    connection, deadline = Connection(port), time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = json.loads((await connection.request("GET", "/api/info"))[1])
        states = [json.loads((await connection.request("GET", f"/api/jobs/{j}"))[1])["status"] for j in jobs]
        if info["queue"] == {"running": 0, "waiting": 0} and all(s not in ("queued", "running") for s in states):
            connection.close()
            return
        await asyncio.sleep(0.5)
    raise SystemExit("the queue did not drain in time")


async def warm_up(port: int) -> None:
    """One upload, one vectorized photo and one edit: what the server loads once (modules, CLIP's
    text side) is loaded before its memory is measured."""
    connection = Connection(port)
    house = (ROOT / "clipvg" / "serve" / "examples" / "house.svg").read_bytes()
    doc = json.loads((await connection.request("POST", "/api/documents?name=warm.svg", house))[1])["document"]["id"]
    job = json.loads((await connection.request("POST", "/api/documents?name=warm.png&rounds=4&max_size=48",
                                               photo(64, 0)))[1])["job"]["id"]
    edit = await post_json(connection, f"/api/documents/{doc}/edits", dict(prompt="a house", iterations=2, patches=1))
    connection.close()
    await drained(port, [job, edit["id"]], 600)


async def burst(port: int, plain_port: int, args: argparse.Namespace) -> dict:
    house = (ROOT / "clipvg" / "serve" / "examples" / "house.svg").read_bytes()
    small = re.sub(rb'width="256" height="256"', f'width="{args.edit_size}" height="{args.edit_size}"'.encode(), house)
    big = photo(args.cancel_size, 99)
    bodies = [(f"u{i}.svg", house) if i % 2 else (f"u{i}.png", photo(64, i)) for i in range(args.uploads)]
    control = Connection(port)
    docs = []
    for i in range(args.edits):
        status, body = await control.request("POST", f"/api/documents?name=house{i}.svg", small)
        docs.append(json.loads(body)["document"]["id"])
    box = args.edit_size // 2
    edit = dict(prompt="a house at night", rois=[{"x": box // 2, "y": box // 2, "w": box, "h": box,
                                                  "prompt": "a red door"}],
                iterations=args.iterations, patches=2, seed=0)
    start = time.perf_counter()
    jobs = [(await post_json(control, f"/api/documents/{doc}/edits", edit))["id"] for doc in docs]
    listeners = [asyncio.create_task(listen(port, job)) for job in jobs for _ in range(args.listeners)]
    vectorize_jobs: list[str] = []
    cancelled = []
    for i in range(args.cancels):  # big photos queued behind the uploads, then cancelled
        status, body = await control.request("POST", f"/api/documents?name=big{i}.png&rounds=4&max_size=48", big)
        cancelled.append(json.loads(body)["job"]["id"])
    info_times: list[float] = []
    plain_times: list[float] = []
    upload_times: list[float] = []
    per_client = -(-args.info // args.clients)
    work = [info_client(port, per_client, info_times) for _ in range(args.clients)]
    work += [info_client(plain_port, per_client, plain_times) for _ in range(args.plain_clients)]
    work += [uploader(port, bodies[i::4], upload_times, vectorize_jobs) for i in range(4)]
    for job in cancelled:
        await control.request("POST", f"/api/jobs/{job}/stop")
    await asyncio.gather(*work)
    ended = await asyncio.gather(*listeners)
    await drained(port, jobs + vectorize_jobs + cancelled, args.timeout)
    control.close()
    return {"api_info_under_load": summary(info_times), "plain_starlette_api_info_under_load": summary(plain_times),
            "upload": summary(upload_times),
            "listeners_that_saw_the_end": f"{sum(ended)}/{len(ended)}",
            "burst_seconds": round(time.perf_counter() - start, 1)}


# --- processes -------------------------------------------------------------------------------------

def start(command: list[str], source: Path) -> tuple[subprocess.Popen, int]:
    """Start a server (importing ``source``'s packages) that prints its URL on its second line; returns
    it and its port."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                               cwd=source)
    process.stdout.readline()
    match = re.search(r":(\d+)/", process.stdout.readline())
    if not match:
        process.kill()
        raise SystemExit(f"{command[:3]} did not start")
    return process, int(match.group(1))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, timeout: float = 120) -> None:
    """Until the server answers and its model is loaded."""
    async def poll() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                connection = Connection(port)
                info = json.loads((await connection.request("GET", "/api/info"))[1])
                connection.close()
                if info.get("model", {}).get("status", "ready") == "ready":
                    return
            except (OSError, asyncio.IncompleteReadError):
                pass
            await asyncio.sleep(0.2)
        raise SystemExit("the server did not become ready")
    asyncio.run(poll())


def rss_mb(process: subprocess.Popen) -> dict[str, float]:
    """Resident MB of the server alone and with its worker processes (all its descendants)."""
    server = psutil.Process(process.pid)
    family = [server] + server.children(recursive=True)
    total = 0
    for member in family:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return {"server": round(server.memory_info().rss / 2 ** 20, 1), "with_workers": round(total / 2 ** 20, 1),
            "processes": len(family)}


def load_average() -> str:
    """``uptime``'s line (load averages over 1, 5 and 15 minutes)."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def commit(source: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=source, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per latency figure")
    parser.add_argument("--info", type=int, default=500)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--edits", type=int, default=12)
    parser.add_argument("--listeners", type=int, default=4, help="event streams per edit")
    parser.add_argument("--iterations", type=int, default=10, help="steps per queued edit")
    parser.add_argument("--edit-size", type=int, default=64, help="canvas side in px of the edited drawing")
    parser.add_argument("--cancels", type=int, default=6)
    parser.add_argument("--cancel-size", type=int, default=2048, help="side in px of the cancelled photos")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--plain-clients", type=int, help="clients of the plain app's /api/info during the burst "
                                                          "(default: as many as --clients)")
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout whose clipvg is served")
    parser.add_argument("--out", type=Path, help="also write the JSON result to this file")
    args = parser.parse_args()
    if args.plain_clients is None:
        args.plain_clients = args.clients
    import losses

    model, weights = losses.shapes_clip_paths()
    source = args.source.resolve()
    with tempfile.TemporaryDirectory() as work:
        plain, plain_port = start([sys.executable, "-c", PLAIN_APP, str(ROOT / "clipvg" / "serve" / "static"),
                                   str(free_port())], source)
        serve, port = start([sys.executable, "-c", "import sys; from clipvg.cli import main; sys.exit(main())",
                             "serve", "--port", "0", "--work-dir", work, "--device", "cpu", "--clip-model", model,
                             "--clip-weights", weights], source)
        try:
            wait_ready(plain_port)
            wait_ready(port)
            result = {"benchmark": "serve", "machine": f"{psutil.cpu_count()} cores, CPU ({platform.processor() or platform.machine()})",
                      "commit": commit(args.source), "python": platform.python_version(),
                      "meta": {"uptime_before": load_average()},
                      "plain_starlette": asyncio.run(latency(plain_port, args.requests)),
                      "clipvg_serve": asyncio.run(latency(port, args.requests))}
            asyncio.run(warm_up(port))
            time.sleep(2.0)
            rss_start = rss_mb(serve)
            result["burst"] = asyncio.run(burst(port, plain_port, args))
            time.sleep(2.0)
            rss_end = rss_mb(serve)
            result["memory"] = {"rss_start_mb": rss_start, "rss_after_drain_mb": rss_end,
                                "change_percent": {k: round((rss_end[k] - rss_start[k]) / rss_start[k] * 100, 1)
                                                   for k in ("server", "with_workers")}}
            result["meta"]["uptime_after"] = load_average()
            result["settings"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        finally:
            for process in (plain, serve):
                process.terminate()
                process.wait(30)
    print_and_save(result, args.out)


if __name__ == "__main__":
    main()
