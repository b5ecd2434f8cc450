"""The bundled demo REST API (docstring completed below)."""

from .app import create_app
from .server import DemoServer, serve

__all__ = ["DemoServer", "create_app", "serve"]
