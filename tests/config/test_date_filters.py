"""The date filters render every date value a template can see."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from restsync_dagster.config.templating import Renderer
from restsync_dagster.errors import TemplateError
from restsync_dagster.secrets import Secrets

CONTEXT = {
    "dt": "2026-01-02",
    "partition": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-03T00:00:00+00:00", "key": "2026-01-02"},
    "incremental": {"start": 1767312000, "end": datetime(2026, 1, 3, tzinfo=timezone.utc)},
    "window": {"start": "2026-01-02T06:30:00", "end": "1767398400"},
}


@pytest.mark.parametrize("template, expected", [
    ("{{ dt | epoch }}", "1767312000"),
    ("{{ dt | epoch_ms }}", "1767312000000"),
    ("{{ partition.start | epoch }}", "1767312000"),
    ("{{ partition.end | strftime('%Y%m%d') }}", "20260103"),
    ("{{ incremental.start | strftime }}", "2026-01-02"),
    ("{{ incremental.end | epoch }}", "1767398400"),
    ("{{ window.start | strftime('%Y-%m-%dT%H:%M') }}", "2026-01-02T06:30"),
    ("{{ window.end | strftime('%d/%m/%Y') }}", "03/01/2026"),
])
def test_filters(template, expected):
    assert Renderer(Secrets(), environ={}).render_str(template, CONTEXT) == expected


def test_a_value_that_is_not_a_date_names_the_field():
    with pytest.raises(TemplateError, match=r"tables\[0\].params.since: expected an ISO date or datetime"):
        Renderer(Secrets(), environ={}).render_str("{{ 'soon' | epoch }}", CONTEXT, where="tables[0].params.since")
