"""The Dagster layer: wires the engine packages into assets, resources, jobs, schedules and sensors."""
