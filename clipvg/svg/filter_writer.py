"""Writing ``Filter`` nodes back as SVG ``<filter>`` elements (canvas px, userSpaceOnUse), every
primitive with its inputs, result, subregion and colour space, so that load -> save -> load keeps
them and the file draws the same."""
from __future__ import annotations

import math
from typing import Callable

import svgwrite
import svgwrite.base
import torch

from ..scene.tree import Filter, FilterPrimitive, Group

Numbers = Callable[[object], str]  # tensor / sequence -> "1 2 3" (the writer's precision)
WriteContent = Callable[[Group, tuple[float, float]], str]  # feImage content, shift -> the id it is written as


class _Element(svgwrite.base.BaseElement):
    """Any SVG element by name (svgwrite knows no ``feDropShadow``)."""

    def __init__(self, name: str, **extra) -> None:
        self.elementname = name
        super().__init__(**extra)


def _hex(rgb: list[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(v * 255))):02x}" for v in rgb[:3])


def _values(value: torch.Tensor) -> list[float]:
    return [float(v) for v in value.detach().cpu().reshape(-1).tolist()]


class FilterWriter:
    """Builds ``<filter>`` elements on ``drawing``; ``nums`` formats numbers; ``content`` writes an
    feImage's content into ``<defs>`` and returns its id."""

    def __init__(self, drawing: svgwrite.Drawing, nums: Numbers, content: WriteContent) -> None:
        self.drawing = drawing
        self.nums = nums
        self.content = content

    def element(self, name: str, **attributes) -> _Element:
        return _Element(name, factory=self.drawing, **{k: v for k, v in attributes.items() if v is not None})

    def filter(self, filter: Filter, name: str, region: dict[str, str]) -> svgwrite.base.BaseElement:
        """The ``<filter id=name>`` element of ``filter``; ``region``: its x/y/width/height attributes."""
        element = self.element("filter", id=name, filterUnits="userSpaceOnUse", primitiveUnits="userSpaceOnUse",
                               **region)
        for primitive in filter.primitives:
            element.add(self.primitive(primitive))
        return element

    def primitive(self, p: FilterPrimitive) -> _Element:
        attributes = {"result": p.result or None,
                      "color-interpolation-filters": "linearRGB" if p.linear_rgb else "sRGB"}
        for key, value in zip(("in", "in2"), p.inputs if p.kind != "feMerge" else []):
            attributes[key] = value
        if p.subregion is not None:
            attributes.update(zip(("x", "y", "width", "height"), self.nums(p.subregion).split()))
        attributes.update(self.attributes(p))
        element = self.element(p.kind, **attributes)
        for child in self.children(p):
            element.add(child)
        return element

    def attributes(self, p: FilterPrimitive) -> dict[str, str | None]:
        q, nums = p.params, self.nums
        kind = p.kind
        out: dict[str, str | None] = {}
        if "std" in q:
            out["stdDeviation"] = nums(q["std"])
        if "offset" in q:
            out["dx"], out["dy"] = nums(q["offset"]).split()
        if kind in ("feFlood", "feDropShadow"):
            color = _values(q["color"])
            out["flood-color"], out["flood-opacity"] = _hex(color), nums([color[3]])
        if kind == "feColorMatrix":
            out["type"], out["values"] = "matrix", nums(q["matrix"])
        if kind == "feComposite":
            out["operator"] = q.get("operator", "over")
            if out["operator"] == "arithmetic":
                out.update(zip(("k1", "k2", "k3", "k4"), nums(q["k"]).split()))
        if kind == "feBlend":
            out["mode"] = q.get("mode", "normal")
        if kind == "feMorphology":
            out["operator"], out["radius"] = q.get("operator", "erode"), nums(q["radius"])
        if kind == "feConvolveMatrix":
            rows, cols = q["kernel"].shape
            out.update(order=f"{cols} {rows}", kernelMatrix=nums(q["kernel"]), divisor=nums(q["divisor"]),
                       bias=nums(q["bias"]), targetX=str(q["target"][0]), targetY=str(q["target"][1]),
                       edgeMode=q["edge_mode"], preserveAlpha="true" if q["preserve_alpha"] else "false")
        if kind == "feDisplacementMap":
            out.update(scale=nums(q["scale"]), xChannelSelector=q["x_channel"], yChannelSelector=q["y_channel"])
        if kind == "feTurbulence":
            sx, sy, _, _ = _values(q["transform"])
            fx, fy = _values(q["base_frequency"])
            out.update(baseFrequency=nums([fx / sx if sx else 0.0, fy / sy if sy else 0.0]),
                       numOctaves=str(q["octaves"]), seed=str(q["seed"]), type=q["type"],
                       stitchTiles="stitch" if q["stitch"] else "noStitch")
        if kind in ("feDiffuseLighting", "feSpecularLighting"):
            out["surfaceScale"] = nums(q["surface_scale"])
            out["lighting-color"] = _hex(_values(q["color"]))
            if kind == "feDiffuseLighting":
                out["diffuseConstant"] = nums(q["constant"])
            else:
                out["specularConstant"], out["specularExponent"] = nums(q["constant"]), nums(q["exponent"])
        if kind == "feImage" and p.content is not None:
            shift = (math.floor(p.subregion[0]), math.floor(p.subregion[1])) if p.subregion else (0.0, 0.0)
            out["xlink:href"] = "#" + self.content(p.content, shift)
        return out

    def children(self, p: FilterPrimitive) -> list[_Element]:
        q, nums = p.params, self.nums
        if p.kind == "feMerge":
            return [self.element("feMergeNode", **{"in": name}) for name in p.inputs]
        if p.kind == "feComponentTransfer":
            nodes = []
            for channel, function in zip("RGBA", q["functions"]):
                if function is None:
                    continue
                attributes = {"type": function["type"]}
                names = {"values": "tableValues", "slope": "slope", "intercept": "intercept",
                         "amplitude": "amplitude", "exponent": "exponent", "offset": "offset"}
                for key, attribute in names.items():
                    if key in function:
                        attributes[attribute] = nums(function[key])
                nodes.append(self.element(f"feFunc{channel}", **attributes))
            return nodes
        light = q.get("light")
        if light is None:
            return []
        if light["type"] == "distant":
            return [self.element("feDistantLight", azimuth=nums(light["azimuth"]), elevation=nums(light["elevation"]))]
        x, y, z = nums(light["position"]).split()
        if light["type"] == "point":
            return [self.element("fePointLight", x=x, y=y, z=z)]
        tx, ty, tz = nums(light["points_at"]).split()
        return [self.element("feSpotLight", x=x, y=y, z=z, pointsAtX=tx, pointsAtY=ty, pointsAtZ=tz,
                             specularExponent=nums(light["exponent"]),
                             limitingConeAngle=None if light.get("cone") is None else nums([light["cone"]]))]


__all__ = ["FilterWriter"]
