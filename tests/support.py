import copy
import json
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest
import yaml


def pipeline_doc(name: str, tables: list[dict], *, source: str = "api", destination: str = "lake",
                 frequency: int = 60, **fields: Any) -> dict:
    """A pipeline document reading ``tables`` from connection ``source`` into ``destination``."""
    return {
        "definition_version": 1,
        "name": name,
        "source": {"connection": {"id": source}},
        "destination": {"connection": {"id": destination}},
        "sync": {"frequency": frequency},
        "tables": tables,
        **fields,
    }


def offset_table(name: str, path: str, *, page_size: int = 100, **fields: Any) -> dict:
    """A table paged by offset whose records sit under ``data``, keyed by ``id`` (the demo API's shape)."""
    return {
        "name": name,
        "path": path,
        "pagination": {"type": "offset", "page_size": page_size},
        "response": {"root_key": "data"},
        "primary_key": ["id"],
        **fields,
    }


BASE_DOCS = {
    "connections/api.yaml": {
        "id": "api",
        "type": "rest",
        "base_url": "http://127.0.0.1:8765",
        "auth": {"type": "bearer", "token": "{{ env.API_TOKEN }}"},
    },
    "connections/lake.yaml": {"id": "lake", "type": "delta", "path": "lake"},
    "connections/out.yaml": {"id": "out", "type": "rest", "base_url": "http://127.0.0.1:9"},
    "hooks/h.yaml": {"id": "h", "type": "webhook", "url": "{{ env.HOOK_URL }}"},
    "pipelines/p.yaml": pipeline_doc(
        "p",
        [offset_table("items", "/items", page_size=10, schema=[{"name": "id", "type": "long"}, {"name": "name", "type": "string"}])],
        frequency=5,
        hooks=[{"id": "h", "events": ["pipeline_failed"]}],
    ),
}


def write_docs(root: Path, docs: dict) -> Path:
    for rel, doc in docs.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(doc, str):
            path.write_text(doc)
        elif rel.endswith(".json"):
            path.write_text(json.dumps(doc, indent=2))
        else:
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
    for kind in ("connections", "pipelines", "hooks"):
        (root / kind).mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def base_docs():
    return copy.deepcopy(BASE_DOCS)


def errors_in_threads(calls: Iterable[Callable[[], object]]) -> list[BaseException]:
    """Run each call on its own thread, all at once; what they raised."""
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
