"""The management HTTP API: pipelines as documents, their Dagster schedules, and API keys.

``create_app`` builds the Starlette app, ``server.serve`` runs it, ``commands`` holds the
``restsync api`` and ``restsync keys`` commands.
"""

from __future__ import annotations

from .app import create_app
from .keys import KeyRecord, KeyStore

__all__ = ["KeyRecord", "KeyStore", "create_app"]
