"""A throwaway PostgreSQL cluster on 127.0.0.1 for the suites that run Dagster on PostgreSQL storage.

``initdb`` + ``pg_ctl`` from Debian's ``postgresql`` package (``make test`` installs it when it is
missing), data in a temp folder, a free port, password auth. PostgreSQL refuses to run as root, so
as root the cluster runs as ``nobody``. ``start`` raises ``Unavailable`` with the exact reason when
the binaries are missing or the server does not come up; the fixture turns that into a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.s3server import free_port

USER = "restsync"
PASSWORD = "rs-test-pg-password-7Hq2"
UNPRIVILEGED = "nobody"
ROOT = Path(__file__).resolve().parents[1]


class Unavailable(RuntimeError):
    """PostgreSQL cannot run here; the message says why."""


@dataclass
class PostgresServer:
    port: int
    data_dir: str
    bin_dir: str
    run_as: list[str] = field(default_factory=list)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{db}"

    def connect(self, db: str = "postgres"):
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname=db)
        connection.autocommit = True
        return connection

    def create_database(self, name: str) -> str:
        connection = self.connect()
        try:
            connection.cursor().execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return name

    def environment(self, db: str) -> dict[str, str]:
        """The variables the storage block of ``dagster.yaml.example`` reads, for database ``db``."""
        return {"DAGSTER_PG_USERNAME": USER, "DAGSTER_PG_PASSWORD": PASSWORD, "DAGSTER_PG_HOST": "127.0.0.1",
                "DAGSTER_PG_PORT": str(self.port), "DAGSTER_PG_DB": db}


def example_storage() -> dict:
    """The commented-out PostgreSQL ``storage:`` block of ``dagster.yaml.example``, uncommented."""
    import yaml

    lines = (ROOT / "dagster.yaml.example").read_text().splitlines()
    start = lines.index("# storage:")
    block = []
    for line in lines[start:]:
        if not line.startswith("# ") or (block and not line.startswith("#  ")):
            break
        block.append(line[2:])
    return yaml.safe_load("\n".join(block))["storage"]


def find_bin_dir() -> str:
    on_path = shutil.which("pg_ctl")
    if on_path:
        return os.path.dirname(os.path.realpath(on_path))
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    raise Unavailable("PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql/*/bin); "
                      "`make test` installs Debian's postgresql package when run as root")


def _run(server: PostgresServer, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*server.run_as, *args], capture_output=True, text=True, timeout=120)


def start() -> PostgresServer:
    bin_dir = find_bin_dir()
    root = tempfile.mkdtemp(prefix="restsync-pg-")
    run_as: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise Unavailable("running as root and `runuser` is missing, so PostgreSQL cannot run as an unprivileged user")
        run_as = [runuser, "-u", UNPRIVILEGED, "--"]
        shutil.chown(root, user=UNPRIVILEGED)
    os.chmod(root, 0o700)
    server = PostgresServer(port=free_port(), data_dir=os.path.join(root, "data"), bin_dir=bin_dir, run_as=run_as)
    pwfile = os.path.join(root, "pw")
    with open(pwfile, "w") as handle:
        handle.write(PASSWORD)
    if run_as:
        shutil.chown(pwfile, user=UNPRIVILEGED)
    done = _run(server, os.path.join(bin_dir, "initdb"), "-D", server.data_dir, "-U", USER, f"--pwfile={pwfile}",
                "--auth=scram-sha-256", "-E", "UTF8", "--no-sync")
    os.remove(pwfile)
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise Unavailable(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} -c fsync=off -c max_connections=200"
    done = _run(server, os.path.join(bin_dir, "pg_ctl"), "-D", server.data_dir, "-o", options,
                "-l", os.path.join(root, "server.log"), "-w", "-t", "60", "start")
    if done.returncode != 0:
        log = open(os.path.join(root, "server.log")).read() if os.path.exists(os.path.join(root, "server.log")) else ""
        shutil.rmtree(root, ignore_errors=True)
        raise Unavailable(f"PostgreSQL did not start: {(done.stderr.strip() or log.strip())[-500:]}")
    deadline = time.monotonic() + 30
    while True:
        try:
            server.connect().close()
            return server
        except Exception as exc:  # noqa: BLE001 - accepting connections only after recovery
            if time.monotonic() > deadline:
                stop(server)
                raise Unavailable(f"PostgreSQL started but refuses connections: {exc}") from exc
            time.sleep(0.2)


def stop(server: PostgresServer) -> None:
    _run(server, os.path.join(server.bin_dir, "pg_ctl"), "-D", server.data_dir, "-m", "fast", "-w", "stop")
    shutil.rmtree(os.path.dirname(server.data_dir), ignore_errors=True)
