"""Handlers of /v2/info/stores and /v2/stores/{store_id}/{image_id}."""

from glance.api import policy
from glance.api.v2 import images
from glance.common import exception
from glance.common import wsgi
from glance.store import backends


def _require_multistore():
    if not backends.multistore():
        raise exception.NotFound('Multiple stores are not enabled.')


def list_stores(request):
    wsgi.refuse_body(request)
    _require_multistore()
    return wsgi.json_response({'stores': backends.describe()})


def list_stores_detail(request):
    wsgi.refuse_body(request)
    _require_multistore()
    context = images.context_of(request)
    policy.Enforcer(context).enforce('stores_info_detail',
                                     {'project_id': context.project_id})
    return wsgi.json_response({'stores': backends.describe(detail=True)})


def delete_from_store(request, store_id, image_id):
    """Remove an image's data from one store; never its last copy."""
    wsgi.refuse_body(request)
    _require_multistore()
    if store_id not in backends.user_store_types():
        raise exception.Conflict('The selected store %s is not available '
                                 'on this node.' % store_id)
    repo = images.image_repo(request)
    image = images.load(request, image_id, 'delete_image_location')
    if image.status != 'active':
        raise exception.Conflict('It is not permitted to remove image data '
                                 'from a store while the image is %s.'
                                 % image.status)
    # As the reference: the only copy is refused (403) before it is
    # asked whether the store named holds it.
    if len(image.active_locations) == 1:
        raise exception.Forbidden('Cannot delete image data from the only '
                                  'store containing it. Consider deleting '
                                  'the image instead.')
    in_store = [loc for loc in image.active_locations
                if loc['metadata'].get('store') == store_id]
    if not in_store:
        raise exception.NotFound('Image %s is not in store %s.'
                                 % (image_id, store_id))
    image.locations = [loc for loc in image.locations
                       if loc not in in_store]
    repo.save(image)
    for location in in_store:
        backends.delete(location['url'], store_id)
    return wsgi.no_content()


ROUTES = [
    ('/v2/info/stores', 'GET', list_stores),
    ('/v2/info/stores/detail', 'GET', list_stores_detail),
    ('/v2/stores/{store_id}/{image_id}', 'DELETE', delete_from_store),
]
