"""``auto_sync_new_tables``: Dagster syncs a table the first time it appears, and only then."""

from __future__ import annotations

import dagster as dg


class NeverSynced(dg.AutomationCondition):
    """True while the table has no materialization at all (in any partition): a table with data is not new."""

    @property
    def name(self) -> str:
        return "never_synced"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        instance = context.asset_graph_view.instance
        synced = instance.get_latest_materialization_event(context.key) is not None
        return dg.AutomationResult(context, context.get_empty_subset() if synced else context.candidate_subset)


def automation_condition(enabled: bool, *, partitioned: bool) -> dg.AutomationCondition | None:
    """Materialize a table that has never been synced; a partitioned one syncs its latest partition only
    (a backfill stays a person's decision).

    A failed first sync is not retried on every tick (the schedule or a person takes over), and a
    child waits until its parent has data.
    """
    if not enabled:
        return None
    AC = dg.AutomationCondition
    condition = NeverSynced() & AC.missing() & ~AC.in_progress() & ~AC.execution_failed() & ~AC.any_deps_missing()
    if partitioned:
        condition = AC.in_latest_time_window() & condition
    return condition.with_label("new table, never synced")
