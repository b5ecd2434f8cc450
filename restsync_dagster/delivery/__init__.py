"""The REST destination: deliver a table's rows to an HTTP endpoint (no Dagster).

    templates.py  ``#{field}`` templates in URLs, headers and custom payloads
    records.py    rows → records: field mapping, JSON-friendly values, key and content hash
    bodies.py     request bodies per body_format (json, csv, form_data, url_encoded)
    log.py        the delivery log and rejects Delta tables; what a run must send
    sender.py     sending requests (optionally on threads) and classifying outcomes
    deliver.py    deliver_table — the entry point tying them together

Typical use::

    with RestClient(connection, secrets=secrets) as client:
        result = deliver_table(iter_table_batches(source_uri, options), client=client,
                               request=pipeline.request_for(table), key_columns=table.primary_key or [],
                               staging_root=root, storage_options=options, pipeline_key=pipeline.key,
                               table_key=table.key, table_name=table.name, run_id=run_id, secrets=secrets)
"""

from .bodies import CONTENT_TYPES, Body, BodyBuilder, encode_multipart
from .deliver import DeliveryResult, deliver_table
from .log import (
    LOG_SCHEMA,
    LOG_SUFFIX,
    REJECTS_SCHEMA,
    REJECTS_SUFFIX,
    DeliveryState,
    LogWriter,
    log_uri,
    read_frame,
    rejects_uri,
)
from .records import Record, RecordMapper, iso_timestamp, jsonable
from .templates import Template, as_text

__all__ = [
    "CONTENT_TYPES",
    "LOG_SCHEMA",
    "LOG_SUFFIX",
    "REJECTS_SCHEMA",
    "REJECTS_SUFFIX",
    "Body",
    "BodyBuilder",
    "DeliveryResult",
    "DeliveryState",
    "LogWriter",
    "Record",
    "RecordMapper",
    "Template",
    "as_text",
    "deliver_table",
    "encode_multipart",
    "iso_timestamp",
    "jsonable",
    "log_uri",
    "read_frame",
    "rejects_uri",
]
