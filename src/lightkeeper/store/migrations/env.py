"""Alembic environment: lightkeeper passes the connection in ``config.attributes``."""

from alembic import context

from lightkeeper.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
context.run_migrations()
