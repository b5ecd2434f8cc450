"""``restsync api`` and ``restsync keys ...``; wired into ``cli.main`` with ``add_command``."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from ..config import definitions_dir
from ..home import dagster_home
from .keys import MAX_EXPIRES_DAYS, KeyStore, KeyStoreError


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--dir", "directory", default=None, help="Definitions folder (default: $RESTSYNC_DEFINITIONS_DIR or definitions_yaml/).")
@click.option("-w", "--workspace", default=None, type=click.Path(exists=True, dir_okay=False), help="workspace.yaml holding the 'restsync' code location (default: the restsync_dagster.definitions module).")
def api_command(host: str, port: int, directory: str | None, workspace: str | None) -> None:
    """Serve the management API on /api/public/v1 (keys: `restsync keys create NAME --admin`)."""
    from .server import serve

    click.echo(f"restsync API on http://{host}:{port}/api/public/v1 (OpenAPI: /api/public/v1/openapi.json; Ctrl+C to stop)")
    serve(host=host, port=port, definitions_dir=directory, workspace=workspace)


def _store() -> KeyStore:
    return KeyStore.for_home(dagster_home(project_root=definitions_dir().resolve().parent))


@click.group("keys")
def keys_group() -> None:
    """Mint, list and revoke API keys (stored hashed in $DAGSTER_HOME/restsync/keys.json)."""


@keys_group.command("create")
@click.argument("name")
@click.option("--expires", "expires_days", type=click.IntRange(min=1, max=MAX_EXPIRES_DAYS), default=None, help="Days until the key expires (default: never).")
@click.option("--admin", is_flag=True, help="Allow managing keys through the API.")
def create_key(name: str, expires_days: int | None, admin: bool) -> None:
    """Mint a key named NAME and print its value (shown only this once)."""
    try:
        value = _store().create(name, expires_days=expires_days, admin=admin)
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(value)
    click.echo(f"key {name!r} created{' (admin)' if admin else ''}; store the value now, it is not shown again", err=True)


@keys_group.command("list")
def list_keys() -> None:
    """List keys: name, prefix, admin, status, created, expires (never the values)."""
    now = datetime.now(tz=timezone.utc).timestamp()
    records = _store().list()
    if not records:
        click.echo("no keys; create one with `restsync keys create NAME --admin`")
        return
    for record in records:
        info = record.public(now)
        click.echo(
            f"{info['name']}\t{info['prefix']}...\t{'admin' if info['admin'] else 'user'}\t{info['status']}"
            f"\tcreated {info['created_at']}\texpires {info['expires_at'] or 'never'}"
        )


@keys_group.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke the key named NAME; it stops authenticating at once."""
    try:
        _store().revoke(name)
    except KeyStoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"key {name!r} revoked")
