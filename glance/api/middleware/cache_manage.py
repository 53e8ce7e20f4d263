"""Stand-in for the cache management filter, until the cache is merged.

The cachemanagement flavors of glance-api-paste.ini name this filter.
This branch has no image cache: the filter passes every request through
and says so once. The image cache work replaces this module.
"""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class CacheManageFilter:
    @classmethod
    def factory(cls, global_conf, **local_conf):
        LOG.warning('The paste flavor asks for cache management, which '
                    'this build does not have; requests are served '
                    'without it.')
        return lambda app: app
