"""The deprecated locations PATCH (show_multiple_locations = true).

    add     /locations/-  or /locations/N   {"url": ..., "metadata": {...}}
    remove  /locations/N
    replace /locations                      [{"url": ..., "metadata": ...}]

Adding a location to a queued image activates it with the size its store
reports. The last location of an active image cannot be removed (403).
Each change is also checked against set_image_location or
delete_image_location, as a change of visibility is against
publicize_image.
"""

from oslo_config import cfg

from glance.api import policy
from glance.common import exception
from glance.domain import quota
from glance.store import backends

CONF = cfg.CONF


def _check_location(value):
    if not isinstance(value, dict) or not isinstance(value.get('url'), str):
        raise exception.BadRequest('A location is an object with a "url" '
                                   'string and a "metadata" object.')
    metadata = value.get('metadata', {})
    if not isinstance(metadata, dict):
        raise exception.BadRequest('Location metadata must be an object.')
    return value['url'], metadata


def _store_of(url, metadata):
    if backends.multistore():
        return metadata.get('store') or _guess_store(url)
    return None


def _guess_store(url):
    scheme = url.partition(':')[0]
    for store_id, kind in backends.user_store_types().items():
        if kind == scheme or (kind == 'http' and scheme == 'https'):
            return store_id
    raise exception.BadRequest('No enabled store serves %s URLs.' % scheme)


def _add(image, url, metadata, index):
    if any(loc['url'] == url for loc in image.active_locations):
        raise exception.BadRequest('Location %s is already present.' % url)
    quota.check_new_location(image)
    store_id = _store_of(url, metadata)
    try:
        size = backends.size_of(url, store_id)
    except Exception as e:
        raise exception.BadRequest('Invalid location %s: %s' % (url, e))
    if store_id:
        metadata = dict(metadata, store=store_id)
    if image.status == 'queued':
        image.size = size
        image.set_status('active')
    elif image.size is not None and size and size != image.size:
        raise exception.BadRequest('Location %s holds %d bytes; the image '
                                   'has %d.' % (url, size, image.size))
    location = {'url': url, 'metadata': metadata, 'status': 'active'}
    image.locations.insert(index, location)


def apply(context, image, change):
    """Apply one change whose path starts with 'locations'."""
    if not CONF.show_multiple_locations:
        raise exception.Forbidden('Locations cannot be changed unless '
                                  'show_multiple_locations is enabled.')
    enforcer = policy.Enforcer(context)
    target = policy.image_target(image)
    path = change.path
    if change.op == 'replace' and len(path) == 1:
        enforcer.enforce('set_image_location', target)
        if not isinstance(change.value, list):
            raise exception.BadRequest('Locations must be a list.')
        if image.active_locations:
            raise exception.Conflict('Only a queued image without locations '
                                     'can have its locations replaced.')
        for position, value in enumerate(change.value):
            url, metadata = _check_location(value)
            _add(image, url, metadata, position)
        return
    if len(path) != 2:
        raise exception.BadRequest('Invalid JSON pointer for locations.')
    active = image.active_locations
    if path[1] == '-':
        index = len(active)
    else:
        try:
            index = int(path[1])
        except ValueError:
            raise exception.BadRequest('Invalid location index %r.'
                                       % path[1])
        limit = len(active) if change.op == 'add' else len(active) - 1
        if not 0 <= index <= limit:
            raise exception.BadRequest('Invalid location index %d.' % index)
    if change.op == 'add':
        enforcer.enforce('set_image_location', target)
        url, metadata = _check_location(change.value)
        _add(image, url, metadata, index)
    elif change.op == 'remove':
        enforcer.enforce('delete_image_location', target)
        if len(active) == 1 and image.status == 'active':
            raise exception.Forbidden('Cannot remove the last location of '
                                      'an active image.')
        image.locations.remove(active[index])
    else:
        raise exception.BadRequest('Locations take add, remove, or replace '
                                   'of the whole list.')
