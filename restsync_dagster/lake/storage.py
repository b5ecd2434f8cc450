"""Storage options for safe commits on object stores.

A Delta commit is "write log version N+1 unless it exists". On S3 delta-rs does that with a
conditional put (``If-None-Match: *``, which S3 and most S3-compatible servers honour): of two writers
racing for one version exactly one wins and the other retries on the next version or fails with a
conflict, so no commit overwrites another. delta-rs 1.x does this by default; restsync sets it
explicitly so that a change of that default can never make concurrent runs silently lose commits.
"""

from __future__ import annotations

S3_SCHEMES = ("s3://", "s3a://")
COMMIT_KEYS = {"conditional_put", "aws_conditional_put", "aws_s3_allow_unsafe_rename"}


def with_commit_safety(root: str, storage_options: dict[str, str]) -> dict[str, str]:
    """``storage_options`` plus ``conditional_put: etag`` for an ``s3://`` root, unless the connection
    already says how commits are made (its own ``conditional_put`` or ``AWS_S3_ALLOW_UNSAFE_RENAME``)."""
    options = dict(storage_options)
    if root.startswith(S3_SCHEMES) and not {k.lower() for k in options} & COMMIT_KEYS:
        options["conditional_put"] = "etag"
    return options
