"""Handlers of the cache API (/v2/cache, Image API 2.14 and 2.18), and
of the legacy /v2/cached_images and /v2/queued_images that the
cachemanagement paste flavors add.

Each call passes its one policy rule first; a node without
image_cache_dir then answers 404, as the reference does.
"""

from oslo_config import cfg
from oslo_log import log as logging

from glance.api import policy
from glance.api.v2 import images
from glance.common import exception
from glance.common import wsgi
from glance.db import cache as db_cache
from glance import image_cache
from glance.image_cache import layout
from glance.image_cache import prefetcher

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

CLEAR_TARGETS = ('', 'cache', 'queue')


def _enforce(request, rule, image=None):
    context = images.context_of(request)
    if image is not None:
        target = policy.image_target(image)
    else:
        target = {'project_id': context.project_id,
                  'owner': context.project_id}
    policy.Enforcer(context).enforce(rule, target)
    cache = image_cache.get()
    if cache is None:
        raise exception.NotFound('Caching via API is not supported at this '
                                 'site.')
    return cache


def _empty(status):
    response = wsgi.no_content()
    response.status = status
    return response


def _image_or_none(request, image_id):
    """The image as the caller sees it, or None if it cannot."""
    if not layout.is_image_id(image_id):
        return None
    try:
        return images.image_repo(request).get(image_id, rule='get_image')
    except exception.NotFound:
        return None


def cache_state(request):
    wsgi.refuse_body(request)
    cache = _enforce(request, 'cache_list')
    return wsgi.json_response({'cached_images': cache.cached_images(),
                               'queued_images': cache.queued_images()})


def queue_image(request, image_id):
    wsgi.refuse_body(request)
    image = _image_or_none(request, image_id)
    if image is None:
        raise exception.NotFound('Image %s not found.' % image_id)
    cache = _enforce(request, 'cache_image', image)
    if image.status != 'active':
        raise exception.BadRequest('Only images with status active can be '
                                   'targeted for queueing')
    cache.queue(image.id)
    prefetcher.wake()
    return _empty(202)


def delete_entry(request, image_id):
    wsgi.refuse_body(request)
    image = _image_or_none(request, image_id)
    if image is None:
        cache = image_cache.get()
        known = (cache is not None and layout.is_image_id(image_id) and
                 (cache.is_cached(image_id) or
                  image_id in cache.queued_images()))
        if not known:
            raise exception.NotFound('Image %s not found.' % image_id)
    cache = _enforce(request, 'cache_delete', image)
    cache.delete(image_id)
    cache.dequeue(image_id)
    return wsgi.no_content()


def clear(request):
    wsgi.refuse_body(request)
    cache = _enforce(request, 'cache_delete')
    target = request.headers.get('x-image-cache-clear-target', '').lower()
    if target not in CLEAR_TARGETS:
        raise exception.BadRequest("If provided 'x-image-cache-clear-target'"
                                   " must be 'cache', 'queue' or empty "
                                   "string.")
    if target in ('', 'cache'):
        cache.delete_all()
    if target in ('', 'queue'):
        cache.delete_all_queued()
    return wsgi.no_content()


def cached_nodes(request, image_id):
    wsgi.refuse_body(request)
    cache = _enforce(request, 'list_cached_nodes')
    if CONF.image_cache_driver.lower() != 'centralized_db':
        raise exception.Conflict('Centralized caching is not enabled')
    if _image_or_none(request, image_id) is None:
        raise exception.NotFound('Image %s not found.' % image_id)
    return wsgi.json_response(cache.nodes_of(image_id))


def clean(request):
    wsgi.refuse_body(request)
    cache = _enforce(request, 'cache_clean')
    cache.clean(live_image_ids=db_cache.active_image_ids(
        [image_id for image_id, _stat in cache.layout.entries()]))
    return _empty(200)


def prune(request):
    wsgi.refuse_body(request)
    cache = _enforce(request, 'cache_prune')
    files, size = cache.prune()
    return wsgi.json_response({'total_files_pruned': files,
                               'total_bytes_pruned': size})


# -- the legacy calls of the cachemanagement flavors ----------------------

def legacy_cached(request):
    cache = _enforce(request, 'manage_image_cache')
    return wsgi.json_response({'cached_images': cache.cached_images()})


def legacy_delete_cached(request, image_id):
    cache = _enforce(request, 'manage_image_cache')
    if layout.is_image_id(image_id):
        cache.delete(image_id)
    return wsgi.json_response({})


def legacy_clear_cached(request):
    cache = _enforce(request, 'manage_image_cache')
    return wsgi.json_response({'num_deleted': cache.delete_all()})


def legacy_queued(request):
    cache = _enforce(request, 'manage_image_cache')
    return wsgi.json_response({'queued_images': cache.queued_images()})


def legacy_queue(request, image_id):
    cache = _enforce(request, 'manage_image_cache')
    if not layout.is_image_id(image_id):
        raise exception.BadRequest('Not an image id: %s' % image_id)
    cache.queue(image_id)
    prefetcher.wake()
    return wsgi.json_response({})


def legacy_dequeue(request, image_id):
    cache = _enforce(request, 'manage_image_cache')
    if layout.is_image_id(image_id):
        cache.dequeue(image_id)
    return wsgi.json_response({})


def legacy_clear_queued(request):
    cache = _enforce(request, 'manage_image_cache')
    return wsgi.json_response({'num_deleted': cache.delete_all_queued()})


# The /v2/cache rows are in glance.api.router's ROUTES.
LEGACY_ROUTES = [
    ('/v2/cached_images', 'GET', legacy_cached),
    ('/v2/cached_images', 'DELETE', legacy_clear_cached),
    ('/v2/cached_images/{image_id}', 'DELETE', legacy_delete_cached),
    ('/v2/queued_images', 'GET', legacy_queued),
    ('/v2/queued_images', 'DELETE', legacy_clear_queued),
    ('/v2/queued_images/{image_id}', 'PUT', legacy_queue),
    ('/v2/queued_images/{image_id}', 'DELETE', legacy_dequeue),
]
