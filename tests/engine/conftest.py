"""The engine suites run against the demo API on a free port, like the Dagster-level ones."""

from tests.dagster.conftest import demo, demo_reset  # noqa: F401 (fixtures)
