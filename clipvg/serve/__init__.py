"""``clipvg serve``: an interactive web editor over ``clipvg.edit`` (Starlette + uvicorn, server-sent
events, a plain HTML/JS page). ``create_app(ServeConfig(...))`` is the ASGI app; ``Service`` holds the
documents, the model and the edit queue. Needs the ``serve`` extra."""
from ..lazy import lazy_attributes

# the app loads the editor (torch): on first use, so a worker process can import its own light modules
__getattr__ = lazy_attributes(__name__, {"create_app": ".app", **dict.fromkeys(("ServeConfig", "Service"), ".service")},
                              globals())

__all__ = ["ServeConfig", "Service", "create_app"]
