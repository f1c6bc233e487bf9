"""Draw SVG files in the system Chromium (through Playwright) at a given pixel size.

The SVG is opened as the page itself (so relative ``<image>`` files and fonts load as in a browser), in a
viewport of the requested size at device scale 1, and its root ``<svg>`` is resized to fill it: the
root's viewBox is kept (or, without one, set to its intrinsic size: its absolute width/height, else 100
user units, as resvg takes it), then width/height are set to the pixel size, so the drawing is scaled
as resvg's test harness scales it. The screenshot has a transparent background. Nothing is fetched from
the network (every host name fails to resolve), as resvg fetches nothing.

Fonts come from fontconfig, so ``FONTCONFIG_FILE`` (set before the browser starts) selects them and
their hinting (resvg draws unhinted outlines). Playwright never downloads
a browser here: it launches ``/usr/bin/chromium`` (or ``executable_path``).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars",
                 "--force-color-profile=srgb", "--host-resolver-rules=MAP * ~NOTFOUND")
_FIT_ROOT = """([width, height]) => {
  const root = document.documentElement;
  if (!root || root.localName !== 'svg') return false;
  if (!root.hasAttribute('viewBox')) {
    const size = (name) => {
      const length = root[name].baseVal;
      const absolute = root.hasAttribute(name) && length.unitType !== SVGLength.SVG_LENGTHTYPE_PERCENTAGE;
      return absolute ? length.value : 100;
    };
    root.setAttribute('viewBox', `0 0 ${size('width')} ${size('height')}`);
  }
  root.setAttribute('width', width);
  root.setAttribute('height', height);
  return true;
}"""


class ChromiumDrawer:
    """One headless Chromium, started on first use and reused for every drawing; ``close()`` ends it.

    ``timeout`` (s) bounds each page load and screenshot. After an error the browser is closed, and the
    next ``draw`` starts a fresh one, so one broken file cannot spoil the next."""

    def __init__(self, executable_path: str = CHROMIUM, timeout: float = 60.0) -> None:
        self.executable_path = executable_path
        self.timeout_ms = timeout * 1000
        self._playwright = None
        self._browser = None
        self._page = None

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        if not Path(self.executable_path).is_file():
            raise FileNotFoundError(f"{self.executable_path} is missing: apt-get install chromium")
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=self.executable_path,
                                                         args=list(CHROMIUM_ARGS))
        self._page = self._browser.new_page(device_scale_factor=1)
        self._page.set_default_timeout(self.timeout_ms)

    def draw(self, path: str | Path, width: int, height: int) -> np.ndarray:
        """(height, width, 4) straight RGBA float in [0, 1]: the SVG file at ``path`` drawn at that size."""
        from PIL import Image

        try:
            if self._page is None:
                self._start()
            self._page.set_viewport_size({"width": width, "height": height})
            self._page.goto(Path(path).resolve().as_uri(), wait_until="load")
            self._page.evaluate(_FIT_ROOT, [width, height])
            self._page.evaluate("document.fonts ? document.fonts.ready.then(() => true) : true")
            png = self._page.screenshot(omit_background=True, timeout=self.timeout_ms)
        except BaseException:
            self.close()
            raise
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.float64) / 255

    def close(self) -> None:
        """End the browser and Playwright (errors while closing a broken browser are ignored)."""
        ends = [self._browser and self._browser.close, self._playwright and self._playwright.stop]
        self._playwright = self._browser = self._page = None
        for end in filter(None, ends):
            try:
                end()
            except Exception:  # already gone: nothing left to end
                pass
