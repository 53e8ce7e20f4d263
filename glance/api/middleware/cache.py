"""The image cache in the pipeline (paste flavors keystone+cache,
keystone+cachemanagement, cache, cachemanagement).

This filter only hands the node's cache to the download handler, which
serves a cached image or fills the cache beside a store download under
the same checks as any download (glance.api.v2.image_data), and removes
an image's cached file once the image has been deleted through this
node. Other nodes never serve it either: a cached file is served only
after the image has been read from the database, active.
"""

import re

from oslo_log import log as logging

from glance.api.v2 import image_data
from glance import image_cache
from glance.image_cache import prefetcher

LOG = logging.getLogger(__name__)

_IMAGE_PATH = re.compile(r'^/v2/images/([^/]+)$')


class CacheFilter:
    def __init__(self, app):
        self.app = app
        self.cache = image_cache.get()
        if self.cache is None:
            LOG.warning('The cache filter is in the pipeline but '
                        'image_cache_dir is not set: nothing is cached.')
        else:
            LOG.info('Image cache enabled in %s',
                     self.cache.layout.base_dir)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    def __call__(self, environ, start_response):
        if self.cache is None:
            return self.app(environ, start_response)
        prefetcher.ensure_started()
        environ[image_data.CACHE_ENVIRON] = self.cache
        match = None
        if environ.get('REQUEST_METHOD') == 'DELETE':
            match = _IMAGE_PATH.match(environ.get('PATH_INFO', ''))
        if match is None:
            return self.app(environ, start_response)
        image_id = match.group(1)

        def evict_when_deleted(status, headers, exc_info=None):
            if status.startswith('2'):
                self._evict(image_id)
            return start_response(status, headers, exc_info)
        return self.app(environ, evict_when_deleted)

    def _evict(self, image_id):
        try:
            self.cache.delete(image_id)
        except ValueError:
            pass
        except Exception:
            LOG.exception('Could not remove image %s from the cache',
                          image_id)
