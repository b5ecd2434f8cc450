"""A table's request streams: incremental windows × parent rows × fan-out combinations.

Each stream is one walk through the table's pagination, described by the table rendered for it and
an ``extra`` dict: ``parent`` and ``fan`` hold the values its records get as columns, ``window``
the :class:`~restsync_dagster.windows.Window` it covers. Windows are the outermost loop, so a window
is complete once the first stream of the next one starts (see ``windows.WindowedPages``).
"""

from __future__ import annotations

import itertools
import json
from typing import Any, Iterator

from .config.pipeline import Pipeline, Table
from .config.checks import walk_strings
from .config.job import Job
from .config.templating import Renderer, inspect, is_template
from .errors import TemplateError
from .lake import read_table_keys, table_uri
from .windows import Window


def fan_combinations(fan_out: dict[str, Any] | None, renderer: Renderer, context: dict, *, where: str) -> list[dict[str, Any]]:
    """The cartesian product of the ``fan_out`` values, in the order written (``[{}]`` without fan-out).

    A value that is a template (``"{{ env.SITES }}"``) must render to a JSON list of scalars.
    """
    if not fan_out:
        return [{}]
    names, choices = [], []
    for name, values in fan_out.items():
        if isinstance(values, str):
            text = renderer.render_str(values, context, where=f"{where} fan_out.{name}")
            try:
                values = json.loads(text)
            except ValueError:
                values = None
            if not _scalar_list(values):
                raise TemplateError(f"{where} fan_out.{name}: expected the template to give a JSON list of values such as [\"a\", \"b\"]")
        names.append(name)
        choices.append(values)
    return [dict(zip(names, combo)) for combo in itertools.product(*choices)]


def _scalar_list(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(
        isinstance(v, (str, int, float, bool)) for v in values)


def record_values(extra: dict) -> dict[str, Any]:
    """What every record of a stream gets as columns (kept when the record has its own value)."""
    return {**extra.get("parent", {}), **extra.get("fan", {})}


def describe(extra: dict) -> str:
    """One line for ``restsync preview``: the window, parent and fan-out values of a stream ("" when none)."""
    parts = []
    if extra.get("window") is not None:
        parts.append(str(extra["window"]))
    if extra.get("parent"):
        parts.append("parent " + " ".join(f"{k}={v}" for k, v in extra["parent"].items()))
    if extra.get("fan"):
        parts.append("fan " + " ".join(f"{k}={v}" for k, v in extra["fan"].items()))
    return ", ".join(parts)


def request_streams(
    pipeline: Pipeline,
    table: Table,
    renderer: Renderer,
    context: dict,
    root: str,
    storage_options: dict[str, str],
    where: str,
    windows: list[Window] | None = None,
) -> Iterator[tuple[Table, dict]]:
    """One ``(rendered table, extra)`` pair per request stream."""
    combos = fan_combinations(table.fan_out, renderer, context, where=where)
    template = table.model_copy(update={"fan_out": None, "job": None}) if table.fan_out or table.job else table
    paged = table.pagination is not None and uses_page(table)
    for window in windows if windows is not None else [None]:
        base = dict(context)
        extra: dict[str, Any] = {}
        if window is not None:
            base["window"] = window.context
            extra["window"] = window
        for parent in _parent_rows(pipeline, table, root, storage_options):
            for fan in combos:
                ctx, out = dict(base), dict(extra)
                if parent is not None:
                    ctx["parent"] = out["parent"] = parent
                if fan:
                    ctx["fan"] = out["fan"] = fan
                rendered = _render(template, renderer, ctx, where, out, paged)
                if table.job is not None:
                    rendered, out["render"] = _with_job(table.job, rendered, renderer, ctx, where)
                yield rendered, out


def uses_page(table: Table) -> bool:
    """Whether the table's ``params`` or ``body`` refer to ``{{ page.* }}``."""
    return any(is_template(text) and "page" in inspect(text).names
               for text in (*(t for _, t in walk_strings(table.params)), *(t for _, t in walk_strings(table.body))))


def _render(template: Table, renderer: Renderer, ctx: dict, where: str, out: dict, paged: bool) -> Table:
    """The table rendered for one stream; with ``paged``, ``params`` and ``body`` stay templates and
    ``out["page_render"]`` renders them for each page."""
    if not paged:
        return renderer.render_model(template, ctx, where=where)
    rendered = renderer.render_model(template.model_copy(update={"params": {}, "body": None}), ctx, where=where)

    def page_render(value: Any, page: dict) -> Any:
        return renderer.render(value, {**ctx, "page": page}, where=f"{where} page {page.get('number')}")

    out["page_render"] = page_render
    return rendered.model_copy(update={"params": template.params, "body": template.body})


def _with_job(job: Job, rendered: Table, renderer: Renderer, ctx: dict, where: str) -> tuple[Table, Any]:
    """The job block rendered now, except ``poll``, which needs ``{{ job.id }}`` and is rendered by
    the returned callable once the job exists."""
    create = renderer.render_model(job.create, ctx, where=f"{where} job.create")
    download = renderer.render_model(job.download, ctx, where=f"{where} job.download")
    poll_where = f"{where} job.poll"

    def render(text: str, more: dict) -> str:
        return renderer.render_str(text, {**ctx, **more}, where=poll_where)

    return rendered.model_copy(update={"job": job.model_copy(update={"create": create, "download": download})}), render


def _parent_rows(pipeline: Pipeline, table: Table, root: str, storage_options: dict[str, str]) -> Iterator[dict | None]:
    if table.parent is None:
        yield None
        return
    parent = pipeline.table(table.parent.table)
    columns = list(table.parent.fields)
    for row in read_table_keys(table_uri(root, pipeline.key, parent.key, parent.location), columns, storage_options):
        yield {alias: row[column] for column, alias in table.parent.fields.items()}
