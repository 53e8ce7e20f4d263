"""Building the WSGI application from configuration."""

import os
import sys

from oslo_config import cfg
from oslo_db import exception as db_exception
from oslo_log import log as logging
from paste import deploy

from glance.api import property_protections
from glance.common import config
from glance.common import option_inventory
from glance.db import engine as db_engine
from glance.db import migration
from glance.domain import quota
from glance.notifier import sender as notification_sender
from glance import policies
from glance.store import backends

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

PASTE_FILE = 'glance-api-paste.ini'


def paste_file():
    """The paste file: configured, next to the config, or shipped."""
    if CONF.paste_deploy.config_file:
        return os.path.abspath(CONF.paste_deploy.config_file)
    candidates = []
    directory = config.config_dir()
    if directory:
        candidates.append(os.path.join(directory, PASTE_FILE))
    repo_etc = os.path.join(os.path.dirname(__file__), '..', '..', 'etc')
    candidates += [os.path.join(repo_etc, PASTE_FILE),
                   os.path.join(sys.prefix, 'etc', 'glance', PASTE_FILE),
                   os.path.join('/etc/glance', PASTE_FILE)]
    for candidate in candidates:
        if os.path.exists(candidate):
            return os.path.abspath(candidate)
    raise RuntimeError('Cannot find %s; set [paste_deploy] config_file.'
                       % PASTE_FILE)


def pipeline_name():
    flavor = CONF.paste_deploy.flavor
    return 'glance-api-%s' % flavor if flavor else 'glance-api'


def load_app():
    return deploy.loadapp('config:' + paste_file(), name=pipeline_name())


def prepare_database():
    """Create or upgrade a SQLite schema; check any other is current."""
    engine = db_engine.get_engine()
    if engine.dialect.name == 'sqlite' and CONF.database.auto_create_schema:
        url = engine.url
        if url.database:
            os.makedirs(os.path.dirname(os.path.abspath(url.database)),
                        exist_ok=True)
        migration.upgrade()
        return
    try:
        revision = migration.current(engine)
    except db_exception.DBError as e:
        raise RuntimeError('cannot reach the database (%s): %s'
                           % (engine.url.render_as_string(), e))
    if revision is None:
        # One clear line, not the traceback of the first query.
        raise RuntimeError('the database %s has no schema; run '
                           '"glance-manage db sync" first.'
                           % engine.url.render_as_string())
    if revision != migration.head():
        LOG.warning('The database schema is not current; run '
                    '"glance-manage db sync".')


def build():
    """With configuration parsed: prepare the database, load the pipeline."""
    logging.setup(CONF, 'glance')
    config.check_values(CONF)
    prepare_database()
    backends.setup(CONF)
    # Again, with the options of the stores now registered.
    config.check_values(CONF)
    quota.storage_quota()
    # oslo.messaging's options are read, its driver loaded, here.
    notification_sender.check_config(CONF)
    # A missing or malformed protections file stops the start here.
    property_protections.load(CONF)
    # Load the policy rules before the workers are forked, not on the
    # first requests.
    policies.get_enforcer()
    option_inventory.log_unsupported(CONF)
    return load_app()


def init_application(argv=None):
    config.parse_args(argv if argv is not None else [])
    return build()
