"""Schema migrations (alembic), as glance-manage and start-up run them."""

import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script

from glance.db import engine as db_engine

_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__), 'migrations')


def _config(connection):
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPT_LOCATION)
    config.attributes['connection'] = connection
    return config


def head():
    script = alembic_script.ScriptDirectory(_SCRIPT_LOCATION)
    return script.get_current_head()


def current(engine=None):
    engine = engine or db_engine.get_engine()
    with engine.connect() as connection:
        context = alembic_migration.MigrationContext.configure(connection)
        return context.get_current_revision()


def upgrade(revision='head', engine=None):
    engine = engine or db_engine.get_engine()
    with engine.begin() as connection:
        alembic_command.upgrade(_config(connection), revision)


def is_current(engine=None):
    return current(engine) == head()
