"""Create, update and delete records in json-server (a real third-party REST server) from a Delta
table, and compare the server's data with the table."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import polars as pl

from tests.delivery.helpers import Lake, request

CONTACTS = pl.DataFrame({
    "id": [1, 2, 3, 4, 5],
    "name": ["Ada", "Grace", "Linus", "Margaret", "Dennis"],
    "email": ["ada@example.org", "grace@example.org", "linus@example.org", "mh@example.org", "dmr@example.org"],
    "vip": [True, False, False, True, False],
    "tags": ['["math"]', '["navy", "cobol"]', "[]", '["apollo"]', '["c", "unix"]'],
    "updated_at": [datetime(2024, 5, 1, 12, 0, s, tzinfo=timezone.utc) for s in range(5)],
})
TYPES = {"tags": "json"}


def server_rows(base_url: str) -> list[dict]:
    rows = httpx.get(f"{base_url}/contacts").json()
    return sorted(rows, key=lambda r: r["id"])


def as_api(frame: pl.DataFrame) -> list[dict]:
    """The rows as the API should hold them: JSON values, tags parsed, instants ISO 8601 UTC."""
    import json

    out = []
    for row in frame.sort("id").to_dicts():
        row["tags"] = json.loads(row["tags"])
        row["updated_at"] = row["updated_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(row)
    return out


def test_post_put_patch_delete_keep_the_server_equal_to_the_table(json_server, make_client, lake: Lake, tmp_path):
    client = make_client(json_server)
    lake.write(CONTACTS)

    created = lake.run(client, request(path="/contacts", method="POST"), column_types=TYPES)
    assert (created.sent, created.delivered, created.requests) == (5, 5, 5)
    assert server_rows(json_server) == as_api(CONTACTS)

    # Nothing changed: nothing is sent.
    again = lake.run(client, request(path="/contacts", method="POST"), column_types=TYPES)
    assert (again.sent, again.requests, again.skipped_unchanged) == (0, 0, 5)

    # Two rows change; the same log (same table) now sends just those two, with PUT.
    changed = CONTACTS.with_columns(
        pl.when(pl.col("id") == 2).then(pl.lit("grace.hopper@navy.mil")).otherwise(pl.col("email")).alias("email"),
        pl.when(pl.col("id") == 4).then(pl.lit('["apollo", "nasa"]')).otherwise(pl.col("tags")).alias("tags"),
    )
    lake.write(changed)
    updated = lake.run(client, request(path="/contacts/#{id}", method="PUT"), column_types=TYPES)
    assert (updated.sent, updated.delivered, updated.skipped_unchanged) == (2, 2, 3)
    assert server_rows(json_server) == as_api(changed)

    # PATCH sends only the mapped fields; json-server merges them into the stored record.
    flags = pl.DataFrame({"id": [1, 3], "vip": [False, True]})
    patch_lake = Lake(tmp_path / "patch", table="contact_flags")
    patch_lake.write(flags)
    patched = patch_lake.run(client, request(
        path="/contacts/#{id}", method="PATCH",
        field_mapping=[{"field_name": "vip", "column_name": "vip", "field_type": "boolean"}],
    ))
    assert (patched.sent, patched.delivered) == (2, 2)
    expected = changed.with_columns(
        pl.when(pl.col("id") == 1).then(False).when(pl.col("id") == 3).then(True).otherwise(pl.col("vip")).alias("vip")
    )
    assert server_rows(json_server) == as_api(expected)

    # DELETE: a table of ids to remove; no body, the URL names the record.
    gone = Lake(tmp_path / "delete", table="contacts_removed")
    gone.write(pl.DataFrame({"id": [2, 5]}))
    deleted = gone.run(client, request(path="/contacts/#{id}", method="DELETE"))
    assert (deleted.sent, deleted.delivered) == (2, 2)
    assert server_rows(json_server) == as_api(expected.filter(~pl.col("id").is_in([2, 5])))
    assert gone.run(client, request(path="/contacts/#{id}", method="DELETE")).sent == 0


def test_form_bodies_reach_json_server(json_server, make_client, lake: Lake):
    """json-server parses url-encoded bodies too (every value arrives as text)."""
    client = make_client(json_server)
    lake.write(pl.DataFrame({"id": [10, 11], "name": ["Barbara", "Ken"]}))
    result = lake.run(client, request(path="/contacts", body_format="url_encoded", static_fields={"source": "restsync"}))
    assert result.delivered == 2
    assert server_rows(json_server) == [
        {"id": "10", "name": "Barbara", "source": "restsync"},
        {"id": "11", "name": "Ken", "source": "restsync"},
    ]
