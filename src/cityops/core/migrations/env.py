from __future__ import annotations

from alembic import context

from cityops.core import schema_operations, schema_subscriptions  # noqa: F401  (put their tables on `metadata`)
from cityops.core.access import schema as access_schema  # noqa: F401
from cityops.core.observation_partitions import not_a_partition
from cityops.core.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, include_name=not_a_partition
)
with context.begin_transaction():
    context.run_migrations()
