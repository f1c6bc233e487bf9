"""``clipvg serve``: an interactive web editor over ``clipvg.edit`` (Starlette + uvicorn, server-sent
events, a plain HTML/JS page). ``create_app(ServeConfig(...))`` is the ASGI app; ``Service`` holds the
documents, the model and the edit queue. Needs the ``serve`` extra."""
from .app import create_app
from .service import ServeConfig, Service

__all__ = ["ServeConfig", "Service", "create_app"]
