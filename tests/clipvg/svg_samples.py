"""Hand-written SVG documents exercising the SVG reader and writer (shared with renderer tests).

``FAITHFUL`` samples hold only what the Scene represents exactly (up to arc-to-cubic conversion and
printed precision), so resvg renders of the original and of our re-saved copy must agree.
"""

HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"')


def svg(body: str, size: str = 'width="64" height="64"') -> str:
    """A complete SVG document around ``body``."""
    return f"{HEAD} {size}>{body}</svg>"


SHAPES = svg("""
  <rect x="4" y="6" width="20" height="12" fill="#c03030"/>
  <rect x="30" y="4" width="28" height="18" rx="6" ry="4" fill="#3050c0" stroke="#000" stroke-width="1.5"/>
  <circle cx="16" cy="40" r="11" fill="#30a050"/>
  <ellipse cx="46" cy="40" rx="14" ry="7" fill="#a0a030" fill-opacity="0.6"/>
  <line x1="2" y1="60" x2="60" y2="52" stroke="#202020" stroke-width="2"/>
  <polyline points="4,30 12,24 20,30 28,24" fill="none" stroke="#800080" stroke-width="1.5"/>
  <polygon points="40,50 50,62 60,50" fill="#008080"/>
""")

ARCS = svg("""
  <path d="M10 32 A 22 14 30 1 1 54 32 A 22 14 30 0 1 10 32 Z" fill="#e08020" fill-opacity="0.8"/>
  <path d="m8 8 h16 v10 a6 6 0 0 1 -6 6 h-10 z" fill="#2060e0"/>
  <path d="M36 6 Q46 0 56 6 T 56 20 C 50 26 44 28 40 24 S 34 10 36 6 Z" fill="#208060"
        stroke="#101010" stroke-width="1"/>
""")

DONUT_EVENODD = svg("""
  <path id="donut" fill-rule="evenodd" fill="#3366cc"
        d="M32 4 A28 28 0 1 1 31.99 4 Z M32 18 A14 14 0 1 0 32.01 18 Z"/>
""")

COMPOUND_3 = svg("""
  <path id="three" fill="#aa3366" d="M4 4 H24 V24 H4 Z M30 4 L50 4 L40 24 Z M10 40 C20 30 40 50 54 40 L54 60 L10 60 Z"/>
""")

TRANSFORMS = svg("""
  <g transform="translate(32 32) rotate(30)">
    <rect x="-20" y="-6" width="40" height="12" fill="#cc4400" stroke="#002244" stroke-width="2"/>
    <g transform="scale(0.5 1.5) skewX(10)">
      <circle r="8" fill="#4444cc"/>
    </g>
  </g>
  <path transform="matrix(1 0.2 -0.3 1 4 40)" d="M0 0 L20 0 L20 14 Z" fill="#22aa22"/>
""")

VIEWBOX = svg("""
  <rect x="2" y="2" width="10" height="5" fill="#552288" stroke="#ff8800" stroke-width="1"/>
  <circle cx="24" cy="12" r="6" fill="#118811"/>
""", size='width="64" height="32" viewBox="0 0 32 16"')

GRADIENTS = svg("""
  <defs>
    <linearGradient id="base" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#ff0000"/>
      <stop offset="50%" style="stop-color:#00ff00;stop-opacity:0.5"/>
      <stop offset="1" stop-color="#0000ff"/>
    </linearGradient>
    <linearGradient id="inherits" xlink:href="#base" spreadMethod="reflect" x2="0.3" y2="0"/>
    <linearGradient id="user" gradientUnits="userSpaceOnUse" x1="4" y1="36" x2="28" y2="60"
                    gradientTransform="rotate(20 16 48)" spreadMethod="repeat" href="#base"/>
    <radialGradient id="radial" cx="0.4" cy="0.5" r="0.6" fx="0.3" fy="0.3">
      <stop offset="0.1" stop-color="#ffffff"/>
      <stop offset="0.9" stop-color="#203080" stop-opacity="0.8"/>
    </radialGradient>
    <radialGradient id="radial_t" xlink:href="#radial" gradientTransform="translate(0.2 0) scale(0.6 1)"/>
  </defs>
  <rect x="4" y="4" width="26" height="26" fill="url(#base)"/>
  <rect x="34" y="4" width="26" height="14" fill="url(#inherits)"/>
  <rect x="4" y="36" width="24" height="24" fill="url(#user)"/>
  <ellipse cx="46" cy="36" rx="14" ry="10" fill="url(#radial)"/>
  <rect x="34" y="48" width="26" height="12" fill="url(#radial_t) red" stroke="url(#base)" stroke-width="2"/>
""")

USE = svg("""
  <defs>
    <path id="tri" d="M0 0 L12 0 L6 10 Z" fill="#aa2222"/>
    <g id="pair"><rect width="6" height="6" fill="#2222aa"/><circle cx="12" cy="3" r="3" fill="#22aa22"/></g>
  </defs>
  <symbol id="sym"><rect x="1" y="1" width="8" height="8" fill="#884400"/></symbol>
  <use xlink:href="#tri" x="4" y="4"/>
  <use href="#tri" transform="translate(40 10) rotate(45)"/>
  <use xlink:href="#pair" x="10" y="40"/>
  <use xlink:href="#sym" x="44" y="44"/>
""")

CSS = svg("""
  <style>
    .warm { fill: #dd5500; stroke: #331100; stroke-width: 2 }
    rect.cool { fill: #0055dd }
    #special { fill: #00aa44; fill-opacity: 0.5 }
    circle { stroke: #444444; stroke-width: 1.5 }
  </style>
  <rect class="warm" x="4" y="4" width="24" height="20"/>
  <rect class="cool" x="36" y="4" width="24" height="20"/>
  <rect id="special" x="4" y="34" width="24" height="24"/>
  <circle cx="46" cy="46" r="10" style="fill: #aa00aa; stroke-opacity: 0.5" color="red"/>
  <path d="M30 60 L36 50 L42 60 Z" fill="currentColor" color="#556677"/>
""")

STROKES = svg("""
  <polyline points="6,10 20,30 34,10" fill="none" stroke="#1144aa" stroke-width="5"
            stroke-linecap="round" stroke-linejoin="round"/>
  <polyline points="36,30 46,10 56,30" fill="none" stroke="#aa4411" stroke-width="4"
            stroke-linecap="square" stroke-linejoin="bevel"/>
  <polyline points="6,50 30,44 6,38" fill="none" stroke="#11aa44" stroke-width="3" stroke-miterlimit="10"/>
  <g transform="scale(2)"><path d="M20 22 L28 28" stroke="#000" stroke-width="1.5" stroke-opacity="0.7"/></g>
""")

VIEWPORTS = svg("""
  <linearGradient id="g" gradientUnits="userSpaceOnUse" x1="0" x2="50%"><stop stop-color="red"/>
    <stop offset="1" stop-color="blue"/></linearGradient>
  <rect width="20" height="8" fill="url(#g)"/>
  <svg x="2" y="9" width="12" height="6" viewBox="0 0 10 10" preserveAspectRatio="xMinYMid meet">
    <rect width="10" height="10" fill="#aa5500"/></svg>
  <symbol id="dot" viewBox="0 0 10 10" fill="#3388cc"><circle cx="5" cy="5" r="5"/></symbol>
  <use href="#dot" x="20" y="2" width="12" height="12"/>
""", size='width="64" height="32" viewBox="0 0 32 16"')

OPACITY = svg("""
  <g opacity="0.5"><rect x="4" y="4" width="24" height="24" fill="#ff0000"/>
    <g style="opacity:0.5"><rect x="36" y="4" width="24" height="24" fill="#0000ff" opacity="0.8"/></g>
  </g>
  <circle cx="32" cy="46" r="12" fill="#008800" opacity="0.7" stroke="#000000" stroke-width="2"/>
""")

LAYERS = svg("""
  <rect id="loose" x="0" y="0" width="8" height="8" fill="#000000"/>
  <g id="layer-a" inkscape:groupmode="layer" inkscape:label="Round 1">
    <rect id="r1" x="10" y="10" width="10" height="10" fill="#ff0000"/>
    <g transform="translate(4 0)"><rect id="r2" x="10" y="24" width="10" height="10" fill="#00ff00"/></g>
  </g>
  <g id="plain"><circle id="c1" cx="40" cy="40" r="8" fill="#0000ff"/></g>
  <g inkscape:groupmode="layer" inkscape:label="Empty"/>
""")

UNSUPPORTED = svg("""
  <defs><clipPath id="clip"><rect width="10" height="10"/></clipPath>
    <pattern id="pat" width="4" height="4"><rect width="2" height="2" fill="#000"/></pattern>
    <mask id="mask"><rect width="64" height="64" fill="#fff"/></mask></defs>
  <text x="4" y="20">hello <tspan>world</tspan></text>
  <text x="4" y="40">again</text>
  <image x="0" y="0" width="10" height="10" href="data:image/png;base64,AAAA"/>
  <rect id="patterned" x="20" y="20" width="20" height="20" fill="url(#pat)" stroke="#123456"/>
  <rect id="clipped" x="40" y="40" width="20" height="20" fill="#654321" clip-path="url(#clip)"/>
""")

FAITHFUL = {
    "shapes": SHAPES, "arcs": ARCS, "donut_evenodd": DONUT_EVENODD, "compound_3": COMPOUND_3,
    "transforms": TRANSFORMS, "viewbox": VIEWBOX, "gradients": GRADIENTS, "use": USE, "css": CSS,
    "strokes": STROKES, "layers": LAYERS, "viewports": VIEWPORTS,
}
