"""glance-cache-prefetcher, glance-cache-pruner, glance-cache-cleaner:
one pass of the image cache's upkeep on this node, for cron.

Each reads the same configuration files as glance-api (image_cache_dir
and the cache options in [DEFAULT], the database, the stores). The API
offers the same work as POST /v2/cache/prune and POST /v2/cache/clean,
and glance-api prefetches queued images by itself.
"""

import sys

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import config
from glance.db import cache as db_cache
from glance import image_cache

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _setup(argv):
    config.parse_args(sys.argv[1:] if argv is None else argv)
    logging.setup(CONF, 'glance')
    cache = image_cache.get()
    if cache is None:
        sys.exit('image_cache_dir is not set: there is no image cache on '
                 'this node.')
    return cache


def prefetch(argv=None):
    cache = _setup(argv)
    from glance.image_cache import prefetcher
    from glance.store import backends
    backends.setup(CONF)
    done, failed = prefetcher.run_once(cache)
    print('Cached %d queued image(s); %d not cached.' % (done, failed))
    return 1 if failed else 0


def prune(argv=None):
    cache = _setup(argv)
    files, size = cache.prune()
    print('Pruned %d file(s), %d byte(s).' % (files, size))
    return 0


def clean(argv=None):
    cache = _setup(argv)
    live = db_cache.active_image_ids(
        [image_id for image_id, _stat in cache.layout.entries()])
    removed = cache.clean(live_image_ids=live)
    print('Removed %d file(s).' % removed)
    return 0
