"""Building the WSGI application from configuration."""

import os
import sys

from oslo_config import cfg
from oslo_log import log as logging
from paste import deploy

from glance.api import property_protections
from glance.common import config
from glance.db import engine as db_engine
from glance.db import migration
from glance.domain import quota
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
    elif not migration.is_current():
        LOG.warning('The database schema is not current; run '
                    '"glance-manage db sync".')


def build():
    """With configuration parsed: prepare the database, load the pipeline."""
    logging.setup(CONF, 'glance')
    prepare_database()
    backends.setup(CONF)
    quota.storage_quota()
    # A missing or malformed protections file stops the start here.
    property_protections.load(CONF)
    # Load the policy rules before the workers are forked, not on the
    # first requests.
    policies.get_enforcer()
    return load_app()


def init_application(argv=None):
    config.parse_args(argv if argv is not None else [])
    return build()
