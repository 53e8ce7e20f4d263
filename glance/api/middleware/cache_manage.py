"""The legacy cache management calls (/v2/cached_images,
/v2/queued_images) of the cachemanagement paste flavors, which the
reference's old glance-cache-manage tool used; every other request goes
on down the pipeline. The /v2/cache API itself is in the router."""

from glance.api import router
from glance.api.v2 import cached_images
from glance.image_cache import prefetcher


class CacheManageFilter:
    def __init__(self, app):
        self.app = app
        self.api = router.API(cached_images.LEGACY_ROUTES)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    def __call__(self, environ, start_response):
        prefetcher.ensure_started()
        if self.api.mapper.match(environ=environ) is None:
            return self.app(environ, start_response)
        return self.api(environ, start_response)
