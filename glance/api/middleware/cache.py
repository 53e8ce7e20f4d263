"""Stand-in for the image cache filter, until the cache is merged.

The cache flavors of glance-api-paste.ini name this filter. This branch
has no image cache: the filter passes every request through and says so
once. The image cache work replaces this module.
"""

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class CacheFilter:
    @classmethod
    def factory(cls, global_conf, **local_conf):
        LOG.warning('The paste flavor asks for the image cache, which this '
                    'build does not have; requests are served without it.')
        return lambda app: app
