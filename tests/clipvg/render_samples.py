"""SVGs that stress the renderer beyond the SVG-reader samples: tiny and huge paths, opacity,
fill rules on self-intersections, focal radial gradients and spread modes, stroke styles."""
from svg_samples import svg

TINY = svg("""
  <rect x="10.2" y="10.3" width="0.4" height="0.5" fill="#000"/>
  <circle cx="20.5" cy="12" r="0.7" fill="#c00"/>
  <rect x="4" y="30" width="50" height="0.3" fill="#00a"/>
  <path d="M40 40 l0.8 0.1 l-0.3 0.6 z" fill="#060"/>
  <polyline points="5,50 30,52" stroke="#000" stroke-width="0.25" fill="none"/>
""")

HUGE = svg("""
  <circle cx="-4000" cy="32" r="4030" fill="#2a6"/>
  <path d="M-10000 -10000 L 10000 -9990 L 40 63 Z" fill="#a33" fill-opacity="0.7"/>
  <rect x="-500" y="50" width="100000" height="6" fill="#33a"/>
""")

OPACITY_STACK = svg("""
  <rect x="4" y="4" width="40" height="40" fill="#f00" fill-opacity="0.5"/>
  <rect x="20" y="20" width="40" height="40" fill="#00f" opacity="0.6"/>
  <circle cx="32" cy="32" r="14" fill="#0f0" fill-opacity="0.5" stroke="#000" stroke-opacity="0.5" stroke-width="4"/>
""")

FILL_RULES = svg("""
  <path d="M16 2 L25 30 L2 12 L30 12 L7 30 Z" fill="#a0a" fill-rule="nonzero"/>
  <path d="M48 2 L57 30 L34 12 L62 12 L39 30 Z" fill="#a0a" fill-rule="evenodd"/>
  <path d="M4 36 H28 V60 H4 Z M8 40 H24 V56 H8 Z" fill="#066" fill-rule="nonzero"/>
  <path d="M36 36 H60 V60 H36 Z M40 40 V56 H56 V40 Z" fill="#066" fill-rule="nonzero"/>
""")

RADIAL_SPREAD = svg("""
  <defs>
    <radialGradient id="focal" gradientUnits="userSpaceOnUse" cx="16" cy="16" r="14" fx="10" fy="12">
      <stop offset="0" stop-color="#fff"/><stop offset="0.6" stop-color="#f80"/>
      <stop offset="1" stop-color="#800" stop-opacity="0.8"/>
    </radialGradient>
    <linearGradient id="reflect" gradientUnits="userSpaceOnUse" x1="36" y1="0" x2="44" y2="0" spreadMethod="reflect">
      <stop offset="0" stop-color="#00f"/><stop offset="1" stop-color="#0ff"/>
    </linearGradient>
    <linearGradient id="repeat" gradientUnits="userSpaceOnUse" x1="0" y1="36" x2="6" y2="44" spreadMethod="repeat">
      <stop offset="0" stop-color="#0a0"/><stop offset="0.5" stop-color="#ff0"/><stop offset="1" stop-color="#0a0"/>
    </linearGradient>
    <radialGradient id="padr" gradientUnits="userSpaceOnUse" cx="48" cy="48" r="6" spreadMethod="pad">
      <stop offset="0" stop-color="#000"/><stop offset="1" stop-color="#f0f"/>
    </radialGradient>
  </defs>
  <circle cx="16" cy="16" r="14" fill="url(#focal)"/>
  <rect x="34" y="2" width="28" height="28" fill="url(#reflect)"/>
  <rect x="2" y="34" width="28" height="28" fill="url(#repeat)"/>
  <rect x="34" y="34" width="28" height="28" fill="url(#padr)"/>
""")

STROKE_STYLES = svg("""
  <polygon points="6,6 26,10 14,26" fill="#fc8" stroke="#420" stroke-width="3" stroke-linejoin="miter"/>
  <polyline points="34,6 60,8 34,12" fill="none" stroke="#24a" stroke-width="3" stroke-linejoin="miter"
            stroke-miterlimit="2"/>
  <path d="M6 44 C 16 30 26 58 36 44" fill="none" stroke="#a24" stroke-width="5" stroke-linecap="square"/>
  <path d="M40 56 Q 50 30 60 56" fill="none" stroke="#2a4" stroke-width="4" stroke-linecap="round"
        stroke-linejoin="round"/>
  <path d="M34 22 L44 30 L54 20 L62 28" fill="none" stroke="#555" stroke-width="2.5" stroke-linejoin="bevel"/>
""")

RENDER_SAMPLES = {"tiny": TINY, "huge": HUGE, "opacity_stack": OPACITY_STACK, "fill_rules": FILL_RULES,
                  "radial_spread": RADIAL_SPREAD, "stroke_styles": STROKE_STYLES}
