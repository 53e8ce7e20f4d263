"""CORS from oslo.middleware, reading [cors] from the service's CONF.

oslo.middleware's own paste factory would parse the project's config
files again by itself, missing --config-file and --config-dir.
"""

from oslo_config import cfg
from oslo_middleware import cors

from glance.common import config


def filter_factory(global_conf, **local_conf):
    config.set_config_defaults()

    def _filter(app):
        return cors.CORS(app, cfg.CONF)
    return _filter
