"""The deprecated locations PATCH (show_multiple_locations = true).

    add     /locations/-  or /locations/N   {"url": ..., "metadata": {...}}
    remove  /locations/N
    replace /locations                      [{"url": ..., "metadata": ...}]

Adding a location to a queued image activates it with the size its store
reports; its "validation_data" (checksum, os_hash_algo, os_hash_value)
become the image's hashes. Replacing the locations of an image that has
some may only change their metadata (the same URLs). The last location of
an active image cannot be removed (403).
Each change is also checked against set_image_location or
delete_image_location, as a change of visibility is against
publicize_image.
"""

import hashlib
import re

from oslo_config import cfg

from glance.api import policy
from glance.common import exception
from glance.domain import quota
from glance.store import backends

CONF = cfg.CONF

_HEX = re.compile(r'^[0-9a-fA-F]+$')
VALIDATION_KEYS = ('checksum', 'os_hash_algo', 'os_hash_value')


def _check_location(value):
    if not isinstance(value, dict) or not isinstance(value.get('url'), str):
        raise exception.BadRequest('A location is an object with a "url" '
                                   'string and a "metadata" object.')
    metadata = value.get('metadata', {})
    if not isinstance(metadata, dict):
        raise exception.BadRequest('Location metadata must be an object.')
    return value['url'], metadata


def _is_hex_of(value, length):
    return isinstance(value, str) and len(value) == length and \
        _HEX.match(value) is not None


def _validation_data(image, values):
    """The hash values the locations' validation_data bring the image.

    As the reference: values for attributes already set must equal
    them; new ones are taken only while the image is queued, in the
    service's hashing_algorithm; anything else is 409.
    """
    merged = {}
    for value in values:
        data = value.get('validation_data')
        if data is None:
            continue
        if not isinstance(data, dict) or set(data) - set(VALIDATION_KEYS):
            raise exception.BadRequest('validation_data holds only %s.'
                                       % ', '.join(VALIDATION_KEYS))
        for key, item in data.items():
            if merged.get(key, item) != item:
                raise exception.Conflict('Conflicting values for %s' % key)
            merged[key] = item
    new = {}
    for key, item in merged.items():
        current = getattr(image, key)
        if item == current:
            continue
        if current:
            raise exception.Conflict('%s is already set with a different '
                                     'value' % key)
        new[key] = item
    if not new:
        return {}
    if image.status != 'queued':
        raise exception.Conflict("New value(s) for %s may only be provided "
                                 "when image status is 'queued'"
                                 % ', '.join(sorted(new)))
    if 'checksum' in new and not _is_hex_of(new['checksum'], 32):
        raise exception.Conflict('checksum (%s) is not an md5 hex digest'
                                 % new['checksum'])
    algo = new.get('os_hash_algo')
    if algo != CONF.hashing_algorithm:
        raise exception.Conflict('os_hash_algo must be %s, not %s'
                                 % (CONF.hashing_algorithm, algo))
    length = hashlib.new(algo).digest_size * 2
    if not _is_hex_of(new.get('os_hash_value'), length):
        raise exception.Conflict('os_hash_value (%s) is not the correct '
                                 'size for %s (should be %d hex digits)'
                                 % (new.get('os_hash_value'), algo, length))
    return new


def _record(image, validation):
    for key, value in validation.items():
        setattr(image, key, value)


def _replace_metadata(image, values):
    """Replace /locations of an image that has locations: the same URLs,
    with new metadata (as the reference allows); any other list is 400."""
    active = image.active_locations
    pairs = [_check_location(value) for value in values]
    current = sorted(loc['url'] for loc in active)
    if sorted(url for url, _m in pairs) != current:
        raise exception.BadRequest('Original locations is not empty: the '
                                   'URLs of an image with locations cannot '
                                   'be changed by a replace.')
    by_url = {loc['url']: loc for loc in active}
    kept = []
    for url, metadata in pairs:
        location = by_url[url]
        if backends.multistore() and location['metadata'].get('store'):
            metadata = dict(metadata, store=location['metadata']['store'])
        if metadata != location['metadata']:
            # A new row in the same place: the data stays where it is.
            location = {'url': url, 'metadata': metadata,
                        'status': 'active'}
        kept.append(location)
    others = [loc for loc in image.locations if loc['status'] != 'active']
    image.locations = kept + others


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
        if image.status not in ('queued', 'active'):
            raise exception.Conflict("It's not allowed to replace locations "
                                     "if image status is %s." % image.status)
        validation = _validation_data(image, change.value)
        if image.active_locations:
            _replace_metadata(image, change.value)
            return
        _record(image, validation)
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
        if image.status not in ('queued', 'active'):
            raise exception.Conflict("It's not allowed to add locations if "
                                     "image status is %s." % image.status)
        url, metadata = _check_location(change.value)
        validation = _validation_data(image, [change.value])
        _record(image, validation)
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
