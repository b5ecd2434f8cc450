"""Mutated shipped definitions: validation answers (errors or success) quickly and never crashes.

Each example takes one document of ``definitions_yaml/`` and breaks it one way: a value of the wrong
type, a missing or extra key, unicode, a huge number, a list where a mapping belongs, YAML aliases,
a broken template, bytes that are not UTF-8, deep nesting or a truncated file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from restsync_dagster.config import load_project
from restsync_dagster.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[2] / "definitions_yaml"
FILES = sorted(str(p.relative_to(SHIPPED)) for p in SHIPPED.rglob("*") if p.suffix in (".yaml", ".json"))
ORIGINAL = {rel: (SHIPPED / rel).read_text(encoding="utf-8") for rel in FILES}
PARSED = {rel: (json.loads(t) if rel.endswith(".json") else yaml.safe_load(t)) for rel, t in ORIGINAL.items()}

#: CPU seconds (not wall time, so a busy machine does not fail the test): validating one mutated
#: folder normally takes a few tens of milliseconds; a hang or an alias expansion blows far past this.
BOUND_S = 1.0

TEMPLATES = ["{{ broken", "{{ env. }}", "{% for x in %}", "{{ nope.value }}", "{{ env.X | nofilter }}", "{{ incremental.start.x.y }}", "}}{{"]
NUMBERS = [10**400, -(2**63), 2**64, 1e308, float("inf"), float("nan"), -0.0, 0, -1, 10**30]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(NUMBERS),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(TEMPLATES),
    st.sampled_from(["", " ", "\t", "ünïcødé ✓", "💥" * 5, "a\u0000b", "\u202e", "../../etc", "http://", "-", "."]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, prefix + (i,))
    return out


def get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def setv(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    get(doc, path[:-1])[path[-1]] = value
    return doc


@st.composite
def structural(draw, doc: Any) -> Any:
    doc = json.loads(json.dumps(doc, default=str))
    path = draw(st.sampled_from(paths(doc)))
    node = get(doc, path)
    kind = draw(st.sampled_from(["replace", "delete", "extra", "list_for_map", "map_for_list", "template", "number", "unicode_key"]))
    if kind == "replace":
        return setv(doc, path, draw(values))
    if kind == "delete" and path:
        parent = get(doc, path[:-1])
        del parent[path[-1]]
        return doc
    if kind == "extra" and isinstance(node, dict):
        node[draw(st.text(min_size=1, max_size=12))] = draw(values)
        return doc
    if kind == "list_for_map":
        return setv(doc, path, [node])
    if kind == "map_for_list":
        return setv(doc, path, {"0": node} if not isinstance(node, list) else dict(enumerate(node)))
    if kind == "template":
        return setv(doc, path, draw(st.sampled_from(TEMPLATES)))
    if kind == "number":
        return setv(doc, path, draw(st.sampled_from(NUMBERS)))
    if kind == "unicode_key" and isinstance(node, dict):
        node[draw(st.text(alphabet=st.characters(min_codepoint=0x80), min_size=1, max_size=5))] = 1
        return doc
    return setv(doc, path, draw(values))


def dump(rel: str, doc: Any) -> bytes:
    if rel.endswith(".json"):
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")


ALIAS_BOMB = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)


@st.composite
def textual(draw, rel: str) -> bytes:
    text = ORIGINAL[rel]
    raw = text.encode("utf-8")
    kind = draw(st.sampled_from(["bad_bytes", "truncate", "deep", "self_alias", "alias_bomb", "alias_value", "huge_int", "bad_date", "splice"]))
    lines = text.splitlines(keepends=True)
    at = draw(st.integers(0, len(lines)))
    if kind == "bad_bytes":
        pos = draw(st.integers(0, len(raw)))
        return raw[:pos] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80", b"\xfe\xff"])) + raw[pos:]
    if kind == "truncate":
        return raw[: draw(st.integers(0, len(raw)))]
    if kind == "deep":
        depth = draw(st.integers(50, 600))
        if rel.endswith(".json"):
            return (text.rstrip().rstrip("}") + ', "deep": ' + "[" * depth + "]" * depth + "}").encode()
        return (text + "deep: " + "[" * depth + "]" * depth + "\n").encode()
    if kind == "self_alias":
        return (text + "headers: &h [*h]\n").encode()
    if kind == "alias_bomb":
        return (text + ALIAS_BOMB + "headers: *a8\n").encode()
    if kind == "alias_value":
        return ("".join(lines[:at]) + "zz: &z {k: v}\n" + "".join(lines[at:]) + "yy: *z\n").encode()
    if kind == "huge_int":
        return (text + f"huge: {'9' * draw(st.integers(4000, 6000))}\n").encode()
    if kind == "bad_date":
        return (text + "when: 2024-02-30\n").encode()
    return ("".join(lines[:at]) + draw(st.text(max_size=40)) + "".join(lines[at:])).encode("utf-8", "surrogatepass")


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(FILES))
    if draw(st.booleans()):
        return rel, dump(rel, draw(structural(PARSED[rel])))
    return rel, draw(textual(rel))


def _uses(pipeline: dict) -> set[str]:
    refs = {str(pipeline.get(side, {}).get("connection", {}).get("id")) for side in ("source", "destination", "staging")}
    return refs | {str(h.get("id")) for h in pipeline.get("hooks", [])}


def neighbours(rel: str) -> set[str]:
    """``rel``, the pipelines that use it (or that it is) and every connection and hook they use."""
    ids = {str(PARSED[r].get("id")): r for r in FILES if not r.startswith("pipelines/")}
    pipelines = [r for r in FILES if r.startswith("pipelines/")]
    if rel.startswith("pipelines/"):
        chosen = [rel]
    else:
        chosen = [p for p in pipelines if str(PARSED[rel].get("id")) in _uses(PARSED[p])]
    return {rel, *chosen, *(ids[i] for p in chosen for i in _uses(PARSED[p]) if i in ids)}


def test_hostile_examples_are_generated():
    """The alias bomb really is one (so the property test exercises the cap)."""
    data = yaml.safe_load(ALIAS_BOMB + "b: *a8\n")
    assert len(data["b"]) == 9 and len(ALIAS_BOMB) < 800


def test_mutated_definitions_never_crash_or_hang(tmp_path_factory):
    folders = {}  # each document is validated with the documents it references or is referenced by
    for rel in FILES:
        folders[rel] = root = tmp_path_factory.mktemp("defs")
        for kind in ("connections", "pipelines", "hooks"):
            (root / kind).mkdir()
        for other in neighbours(rel):
            (root / other).write_text(ORIGINAL[other], encoding="utf-8")
    outcomes = {"ok": 0, "errors": 0}

    @settings(derandomize=True, max_examples=1000, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(mutated())
    def check(case: tuple[str, bytes]) -> None:
        rel, content = case
        root = folders[rel]
        target = root / rel
        target.write_bytes(content)
        try:
            started = time.process_time()
            try:
                project = load_project(root, environ={}, strict=False)
            except ConfigError as exc:  # only a missing folder raises in lenient mode
                raise AssertionError(f"unexpected ConfigError: {exc}") from None
            if project.broken:
                assert all(b.issues and b.message() for b in project.broken)
                assert not any(b.id in project.pipelines for b in project.broken if b.kind == "pipelines")
                outcomes["errors"] += 1
            else:
                outcomes["ok"] += 1
            elapsed = time.process_time() - started
            assert elapsed < BOUND_S, f"validating a mutated {rel} took {elapsed:.2f}s"
        finally:
            target.write_text(ORIGINAL[rel], encoding="utf-8")

    check()
    assert outcomes["ok"] + outcomes["errors"] >= 1000
    assert outcomes["errors"] > outcomes["ok"] > 0
