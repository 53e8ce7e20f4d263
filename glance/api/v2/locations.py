"""Handlers of /v2/images/{image_id}/locations (the 2.17 location API).

A service (or the owner) points a queued image at data already in a
store, typically an http URL; the image becomes active at once with the
size the store reports, and unless validation data was given its hashes
are computed in the background from the data itself.
"""

import concurrent.futures
import hashlib
import re

from oslo_config import cfg
from oslo_log import log as logging

from glance.api.v2 import images
from glance.common import exception
from glance.common import wsgi
from glance.db import images as db_images
from glance.store import backends
from glance.store import writer

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_HEX = re.compile(r'^[0-9a-fA-F]+$')
_executor = None


def _background():
    global _executor
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=2, thread_name_prefix='glance-location-hash')
    return _executor


def _http_store_id():
    """The http store users may point at, or None if none is enabled."""
    if backends.multistore():
        for store_id, kind in backends.user_store_types().items():
            if kind == 'http':
                return store_id
        return None
    return 'http' if 'http' in CONF.glance_store.stores else None


def _check_validation_data(data):
    if not isinstance(data, dict):
        raise exception.BadRequest('validation_data must be an object.')
    unknown = set(data) - {'os_hash_algo', 'os_hash_value', 'checksum'}
    if unknown:
        raise exception.BadRequest('Unknown validation_data keys: %s'
                                   % ', '.join(sorted(unknown)))
    algo, value = data.get('os_hash_algo'), data.get('os_hash_value')
    if algo != CONF.hashing_algorithm:
        raise exception.BadRequest('validation_data os_hash_algo must be %s.'
                                   % CONF.hashing_algorithm)
    length = hashlib.new(algo).digest_size * 2
    if not isinstance(value, str) or len(value) != length or \
            not _HEX.match(value):
        raise exception.BadRequest('validation_data os_hash_value must be '
                                   'a %d-character hex digest.' % length)
    checksum = data.get('checksum')
    if checksum is not None and (not isinstance(checksum, str) or
                                 len(checksum) != 32 or
                                 not _HEX.match(checksum)):
        raise exception.BadRequest('validation_data checksum must be a '
                                   '32-character hex digest.')
    return checksum, algo, value.lower()


def _hash_in_background(image_id, url, store_id):
    for attempt in range(CONF.http_retries + 1):
        try:
            chunks, _size = backends.read(url, store_id)
            hashes = writer.Hashes()
            for chunk in chunks:
                hashes.update(chunk)
            checksum, value = hashes.hexdigests()
            db_images.set_hashes(image_id, checksum, hashes.algorithm,
                                 value)
            return
        except Exception as e:
            LOG.warning('Hashing the data of image %s at %s failed '
                        '(attempt %d): %s', image_id, url, attempt + 1, e)


def add_location(request, image_id):
    body = wsgi.read_json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get('url'), str):
        raise exception.BadRequest('The request body must be an object with '
                                   'a "url" string.')
    url = body['url']
    validation = None
    if body.get('validation_data') is not None:
        validation = _check_validation_data(body['validation_data'])
    repo = images.image_repo(request)
    image = images.load(request, image_id, 'add_image_location')
    # The image's state first (409), then whether the http store is
    # there (403), as the reference answers.
    if image.status != 'queued':
        raise exception.Conflict('Locations can only be added to a queued '
                                 'image (image is %s).' % image.status)
    store_id = _http_store_id()
    if store_id is None:
        raise exception.Forbidden('http store must be enabled to use the '
                                  'location API.')
    if not url.lower().startswith(('http://', 'https://')):
        raise exception.BadRequest('Only http and https locations can be '
                                   'added.')
    try:
        size = backends.size_of(url, store_id if backends.multistore()
                                else None)
    except Exception as e:
        raise exception.BadRequest('Cannot read the size of %s: %s'
                                   % (url, e))
    image.size = size
    if validation is not None:
        image.checksum, image.os_hash_algo, image.os_hash_value = validation
    metadata = {'store': store_id} if backends.multistore() else {}
    image.add_location(url, metadata)
    image.set_status('active')
    repo.save(image)
    if validation is None and CONF.do_secure_hash:
        _background().submit(_hash_in_background, image.id, url,
                             metadata.get('store'))
    response = wsgi.no_content()
    response.status = 202
    return response


def get_locations(request, image_id):
    wsgi.refuse_body(request)
    image = images.load(request, image_id, 'fetch_image_location')
    return wsgi.json_response([
        {'url': loc['url'], 'metadata': loc['metadata']}
        for loc in image.active_locations])


_LOCATIONS = '/v2/images/{image_id}/locations'

ROUTES = [
    (_LOCATIONS, 'POST', add_location),
    (_LOCATIONS, 'GET', get_locations),
]
