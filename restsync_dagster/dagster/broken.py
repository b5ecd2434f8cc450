"""Documents that do not load, shown where a Dagster user looks: one failing sensor each, and metadata.

A broken document takes only its own pipeline down (and the pipelines that use a broken connection
or hook); the rest of the code location loads. Each broken document gets a sensor named
``restsync_invalid_<kind>_<id>``, running by default, whose every evaluation fails with the
document's ``file:line`` errors, and the definitions carry ``restsync/invalid_documents``.
"""

from __future__ import annotations

from typing import NoReturn

import dagster as dg

from ..config import BrokenDocument, Project
from ..config.common import to_key
from ..errors import ConfigError

METADATA_KEY = "restsync/invalid_documents"
SENSOR_PREFIX = "restsync_invalid_"
CHECK_EVERY_S = 300


def sensor_name(broken: BrokenDocument, taken: set[str]) -> str:
    stem = to_key(broken.id or broken.file.rsplit("/", 1)[-1].rsplit(".", 1)[0]).strip("_") or "document"
    name = f"{SENSOR_PREFIX}{broken.kind[:-1]}_{stem}"
    n = 2
    while name in taken:
        name, n = f"{SENSOR_PREFIX}{broken.kind[:-1]}_{stem}_{n}", n + 1
    taken.add(name)
    return name


def broken_sensor(broken: BrokenDocument, name: str) -> dg.SensorDefinition:
    message = broken.message()

    def evaluate(context: dg.SensorEvaluationContext) -> NoReturn:
        raise ConfigError(broken.issues)

    return dg.SensorDefinition(
        name=name,
        evaluation_fn=evaluate,
        minimum_interval_seconds=CHECK_EVERY_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Fails until {broken.file} is fixed; {broken.label} is not loaded:\n\n{message}",
    )


def broken_defs(project: Project) -> tuple[list[dg.SensorDefinition], dict[str, dg.MetadataValue]]:
    """One always-failing sensor per broken document, and a definitions-level summary of them."""
    if not project.broken:
        return [], {}
    taken: set[str] = set()
    sensors = [broken_sensor(b, sensor_name(b, taken)) for b in project.broken]
    rows = ["| document | not loaded | errors |", "|---|---|---|"]
    for b in project.broken:
        rows.append(f"| {b.file} | {b.label} | {'<br>'.join(_cell(str(i)) for i in b.issues)} |")
    return sensors, {METADATA_KEY: dg.MetadataValue.md("\n".join(rows))}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
