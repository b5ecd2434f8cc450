import copy
import json
from pathlib import Path

import pytest
import yaml

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
    "pipelines/p.yaml": {
        "definition_version": 1,
        "name": "p",
        "source": {"connection": {"id": "api"}},
        "destination": {"connection": {"id": "lake"}},
        "sync": {"frequency": 5},
        "tables": [
            {
                "name": "items",
                "path": "/items",
                "pagination": {"type": "offset", "page_size": 10},
                "response": {"root_key": "data"},
                "primary_key": ["id"],
                "schema": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
            }
        ],
        "hooks": [{"id": "h", "events": ["pipeline_failed"]}],
    },
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
