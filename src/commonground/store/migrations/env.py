"""Alembic environment of the operational store. Run through :func:`commonground.store.migrate.upgrade`, which
hands over an open connection; the metadata is the whole store's
(:func:`commonground.store.migrations.metadata.all_metadata`)."""

from __future__ import annotations

from alembic import context

from commonground.store.migrations.metadata import all_metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through commonground.store.migrate.upgrade(), which passes a connection")
    context.configure(
        connection=connection,
        target_metadata=all_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
