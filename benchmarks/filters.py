"""Filter and blend-mode benchmark: forward and forward+backward time of a 128 px icon drawn plain and
with each family of SVG filter primitives (and mix-blend-mode), on one device. Prints JSON.

The icon is a hand-written SVG (a gradient badge, a ring, a glyph-like path); each case puts one
``<filter>`` (or a blend mode) on its content. Times are medians over ``--repeats`` runs, in
milliseconds (with the 1-minute load average, since a shared machine slows them); ``backward`` differentiates the summed image w.r.t. the points and every filter
parameter tensor.

    python benchmarks/filters.py [--device cpu|cuda] [--size 128] [--repeats 20] [--json out.json]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
from json_result import git_commit, print_and_save

from clipvg import load_svg, render

ICON = """<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 64 64">
 <defs><linearGradient id="g" x2="0" y2="1"><stop offset="0" stop-color="#6cf"/><stop offset="1" stop-color="#236"/>
 </linearGradient>{filter}</defs>
 <g {use}><rect x="6" y="6" width="52" height="52" rx="10" fill="url(#g)"/>
  <circle cx="32" cy="32" r="15" fill="none" stroke="#fff" stroke-width="4"/>
  <path d="M26 38 L32 22 L38 38 Z M29 33 H35" fill="#fc3" stroke="#222" stroke-width="1.5"/></g>
</svg>"""
CASES = {
    "plain": "",
    "blur": '<filter id="f"><feGaussianBlur stdDeviation="1.5"/></filter>',
    "drop shadow chain": """<filter id="f"><feGaussianBlur in="SourceAlpha" stdDeviation="2"/><feOffset dx="2" dy="2"/>
        <feFlood flood-color="#000" flood-opacity="0.5"/><feComposite in2="SourceAlpha" operator="in"/>
        <feMerge><feMergeNode/><feMergeNode in="SourceGraphic"/></feMerge></filter>""",
    "colour": """<filter id="f"><feColorMatrix type="hueRotate" values="40"/>
        <feComponentTransfer><feFuncR type="gamma" exponent="0.8"/><feFuncB type="table" tableValues="0 0.5 1"/>
        </feComponentTransfer></filter>""",
    "morphology and convolve": """<filter id="f"><feMorphology operator="dilate" radius="1"/>
        <feConvolveMatrix kernelMatrix="0 -1 0 -1 5 -1 0 -1 0"/></filter>""",
    "turbulence": """<filter id="f"><feTurbulence baseFrequency="0.05" numOctaves="3"/>
        <feComposite in2="SourceGraphic" operator="in"/></filter>""",
    "lighting": """<filter id="f"><feGaussianBlur in="SourceAlpha" stdDeviation="1.5"/>
        <feSpecularLighting surfaceScale="3" specularExponent="16"><fePointLight x="20" y="10" z="30"/>
        </feSpecularLighting><feComposite in2="SourceGraphic" operator="arithmetic" k2="1" k3="1"/></filter>""",
    "mix-blend-mode": "",
}


def scene_for(case: str, size: int, device: str):
    use = 'style="mix-blend-mode:multiply"' if case == "mix-blend-mode" else 'filter="url(#f)"' if CASES[case] else ""
    return load_svg(ICON.format(size=size, filter=CASES[case], use=use), device=device)


def median_ms(fn, repeats: int, device: str) -> float:
    times = []
    for _ in range(repeats + 2):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:]) * 1000


def measure(case: str, size: int, repeats: int, device: str) -> dict:
    scene = scene_for(case, size, device)
    tensors = [t for g in scene.tree.groups() for f in g.filters for t in f.tensors()]
    forward = median_ms(lambda: render(scene, background=(1, 1, 1)), repeats, device)
    scene.points.requires_grad_(True)
    for tensor in tensors:
        tensor.requires_grad_(True)

    def step() -> None:
        render(scene, background=(1, 1, 1)).sum().backward()

    backward = median_ms(step, repeats, device)
    return {"case": case, "forward_ms": round(forward, 2), "forward_backward_ms": round(backward, 2),
            "filter_parameters": len(tensors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    commit = git_commit()
    result = {"benchmark": "filters", "commit": commit, "device": args.device, "size": args.size,
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads",
              "load_average_1min": round(os.getloadavg()[0], 1), "repeats": args.repeats,
              "cases": [measure(case, args.size, args.repeats, args.device) for case in CASES]}
    print_and_save(result, args.json)


if __name__ == "__main__":
    main()
