"""A real S3-compatible server on 127.0.0.1 for the object-store suites (moto's standalone server).

moto's server is the same HTTP service whichever process talks to it: deltalake (Rust object_store)
writes and reads through it exactly as it would against S3, so nothing in restsync is patched.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

ACCESS_KEY = "AKIARESTSYNCTESTKEY1"
SECRET_KEY = "rs-test-secret/6Qm2yS0pXvTnB8wLkEjZ"
REGION = "us-east-1"
BUCKET = "restsync-lake"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class S3Server:
    endpoint: str
    bucket: str = BUCKET

    def storage_options(self, **extra: str) -> dict[str, str]:
        """What a Delta connection's ``storage_options`` renders to for this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            **extra,
        }

    def prefix(self) -> str:
        """A fresh ``s3://`` root for one test."""
        return f"s3://{self.bucket}/{uuid.uuid4().hex[:12]}"

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        )

    def keys(self, root: str) -> list[str]:
        """Every object key under an ``s3://bucket/prefix`` root."""
        prefix = root.split("/", 3)[3]
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix + "/")
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


def start() -> tuple[subprocess.Popen, S3Server]:
    """Start moto's server in its own process on a free port with one bucket; returns (process, handle).

    A separate process, not moto's in-process thread: deltalake holds the GIL in some blocking calls
    (``DeltaTable.is_deltatable``), which would deadlock a server living in the same interpreter.
    """
    port = free_port()
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    handle = S3Server(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        try:
            handle.client().create_bucket(Bucket=BUCKET)
            return process, handle
        except Exception:  # noqa: BLE001 - not listening yet
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
