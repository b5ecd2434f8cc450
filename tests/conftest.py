"""Fixtures shared by the suites: a secrets registry, REST clients closed after each test, and the
real servers of the deployment suites, each started once on first use and stopped at the end: a
local S3-compatible server and a throwaway PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from restsync_dagster.http import RestClient
from restsync_dagster.secrets import Secrets
from tests import pgserver, s3server
from tests.http.helpers import connection


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture
def make_client(secrets: Secrets) -> Iterator[Any]:
    clients: list[RestClient] = []

    def make(base_url: str, **fields: Any) -> RestClient:
        client = RestClient(connection(base_url, **fields), secrets=secrets)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def s3() -> Iterator[s3server.S3Server]:
    process, handle = s3server.start()
    yield handle
    s3server.stop(process)


@pytest.fixture(scope="session")
def postgres() -> Iterator[pgserver.PostgresServer]:
    try:
        server = pgserver.start()
    except pgserver.Unavailable as exc:
        pytest.skip(f"PostgreSQL cannot start here: {exc}")
    yield server
    pgserver.stop(server)
