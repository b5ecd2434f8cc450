"""WireMock standalone (the jar shipped by the ``wiremock`` npm package) as a fault-injection server.

``WireMock.start`` runs ``java -jar`` on a free 127.0.0.1 port with its root folder in a temp
directory; stubs, scenarios and request counts go through its admin API (``/__admin``).
"""

from __future__ import annotations

import glob
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
JAR_GLOB = "node_modules/wiremock/build/wiremock-standalone-*.jar"


def find_jar() -> str | None:
    jars = sorted(glob.glob(str(ROOT / JAR_GLOB)))
    return jars[-1] if jars else None


def missing_requirement() -> str | None:
    """Why WireMock cannot start here, or ``None``."""
    if shutil.which("java") is None:
        return "java is not installed (`make test` installs default-jre-headless when run as root)"
    if find_jar() is None:
        return f"the WireMock jar ({JAR_GLOB}) is missing; run `npm ci`"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WireMock:
    def __init__(self, root_dir: Path):
        self.root_dir = root_dir
        self.proc: subprocess.Popen | None = None
        self.base_url = ""
        self.log = root_dir / "wiremock.log"

    def start(self, *, attempts: int = 3, startup_s: float = 60.0) -> "WireMock":
        jar = find_jar()
        assert jar is not None
        for _ in range(attempts):
            port = _free_port()
            self.base_url = f"http://127.0.0.1:{port}"
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    ["java", "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-jar", jar, "--port", str(port),
                     "--bind-address", "127.0.0.1", "--root-dir", str(self.root_dir), "--disable-banner",
                     "--container-threads", "16"],
                    stdout=log, stderr=subprocess.STDOUT,
                )
            deadline = time.monotonic() + startup_s
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    if httpx.get(f"{self.base_url}/__admin/mappings", timeout=1).status_code == 200:
                        return self
                except httpx.HTTPError:
                    time.sleep(0.1)
            self.stop()  # the port was taken meanwhile, or the JVM did not come up: try another port
        raise RuntimeError(f"WireMock did not start; see {self.log}: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.base_url}/__admin{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self) -> None:
        """Forget every stub, scenario state and logged request."""
        self.admin("POST", "/reset")

    def stub(self, request: dict[str, Any], response: dict[str, Any], *, priority: int = 5,
             scenario: str | None = None, state: str | None = None, next_state: str | None = None) -> None:
        mapping: dict[str, Any] = {"request": {"method": "GET", **request}, "response": response, "priority": priority}
        if scenario is not None:
            mapping["scenarioName"] = scenario
            mapping["requiredScenarioState"] = state or "Started"
            if next_state is not None:
                mapping["newScenarioState"] = next_state
        self.admin("POST", "/mappings", mapping)

    def count(self, **request: Any) -> int:
        return int(self.admin("POST", "/requests/count", {"method": "GET", **request})["count"])
