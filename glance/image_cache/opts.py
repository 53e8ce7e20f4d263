"""Options of the image cache ([DEFAULT], as the reference names them)."""

from oslo_config import cfg

from glance.i18n import _

DRIVERS = ('centralized_db', 'sqlite', 'xattr')

cache_opts = [
    cfg.StrOpt('image_cache_dir',
               help=_('Directory of the image cache on this node. Unset '
                      '(the default) means no cache: no cached downloads, '
                      'and the cache API answers 404. Cached images live '
                      'directly in it; images being written live in '
                      '"incomplete", files that failed their checksum in '
                      '"invalid", and images queued for prefetching in '
                      '"queue". Give it its own file system, sized for '
                      'image_cache_max_size plus the largest image.')),
    cfg.IntOpt('image_cache_max_size', default=10 * 1024 ** 3, min=0,
               help=_('Size in bytes down to which the pruner trims the '
                      'cache, least recently used images first. Not a '
                      'hard limit: the cache grows past it between '
                      'prunes.')),
    cfg.IntOpt('image_cache_stall_time', default=86400, min=0,
               help=_('Seconds after which the cleaner removes an '
                      'incomplete cache file that nobody is writing.')),
    cfg.StrOpt('image_cache_driver', default='centralized_db',
               choices=DRIVERS, ignore_case=True,
               help=_('Where the cache keeps its records (size, hits, last '
                      'access) of the images it holds: "centralized_db" in '
                      'the service database, one set per node, "sqlite" in '
                      'a SQLite file in image_cache_dir, "xattr" in '
                      'extended attributes of the cached files (the file '
                      'system must support user xattrs).')),
    cfg.StrOpt('image_cache_sqlite_db', default='cache.db',
               help=_('File name, inside image_cache_dir, of the sqlite '
                      'driver\'s records.')),
    cfg.IntOpt('cache_prefetcher_interval', default=300, min=1,
               help=_('Seconds between two runs of the prefetcher inside '
                      'glance-api, which caches the images queued with '
                      'PUT /v2/cache/{image_id} that are not cached yet. '
                      'A queued image is also fetched at once.')),
]


def register_opts(conf):
    conf.register_opts(cache_opts)


def list_opts():
    return [(None, list(cache_opts))]
