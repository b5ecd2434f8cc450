"""Dagster's beta APIs that restsync builds on deliberately."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg


@contextmanager
def deliberate_beta() -> Iterator[None]:
    """Hide Dagster's beta and preview notes around a call restsync makes on purpose.

    Those notes are for restsync's developers (the test suite turns new ones into errors), not for
    the person running ``dagster dev`` or ``restsync sync``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        yield
