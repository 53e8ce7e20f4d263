"""Alembic environment: runs on the connection glance.db.migration gives."""

from alembic import context

from glance.db import metadef_models  # noqa: F401 (registers its tables)
from glance.db import models


def run_migrations_online():
    connection = context.config.attributes['connection']
    context.configure(connection=connection,
                      target_metadata=models.Base.metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
