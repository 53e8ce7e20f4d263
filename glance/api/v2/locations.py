"""Handlers of /v2/images/{image_id}/locations (the 2.17 location API).

A service (or the owner) points a queued image at data already in a
store, an http URL; the request checks what it can at once (400, 403,
409) and answers 202, and a location_import task finishes the work:
see glance.async_.flows.location_import.
"""

import hashlib
import re

from oslo_config import cfg
from oslo_log import log as logging

from glance.api.v2 import images
from glance.async_ import executor
from glance.async_.flows import import_state
from glance.async_.flows import location_import
from glance.common import exception
from glance.common import wsgi
from glance.db import tasks as db_tasks
from glance.domain import task as domain_task
from glance.store import backends
from glance.store import staging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_HEX = re.compile(r'^[0-9a-fA-F]+$')
# The algorithms the reference's add-location schema accepts.
VALIDATION_ALGORITHMS = ('sha1', 'sha256', 'sha512', 'md5')


def _http_store_id():
    """The http store users may point at, or None if none is enabled."""
    if backends.multistore():
        for store_id, kind in backends.user_store_types().items():
            if kind == 'http':
                return store_id
        return None
    return 'http' if 'http' in CONF.glance_store.stores else None


def _check_validation_data(data):
    """The validation data, checked as the reference checks it: 400 at
    once for an unknown key or algorithm, a value without its algorithm
    (or the reverse), or a value that is not a hex digest of the
    algorithm's length."""
    if not isinstance(data, dict):
        raise exception.BadRequest('validation_data must be an object.')
    unknown = set(data) - {'os_hash_algo', 'os_hash_value'}
    if unknown:
        raise exception.BadRequest('Unknown validation_data keys: %s'
                                   % ', '.join(sorted(unknown)))
    if not data:
        return {}
    algo, value = data.get('os_hash_algo'), data.get('os_hash_value')
    if algo is None or value is None:
        raise exception.BadRequest('validation_data needs both '
                                   'os_hash_algo and os_hash_value.')
    if algo not in VALIDATION_ALGORITHMS:
        raise exception.BadRequest('validation_data os_hash_algo must be '
                                   'one of %s.'
                                   % ', '.join(VALIDATION_ALGORITHMS))
    length = hashlib.new(algo).digest_size * 2
    if not isinstance(value, str) or len(value) != length or \
            not _HEX.match(value):
        raise exception.BadRequest('os_hash_value: (%s) is not the correct '
                                   'size for (%s) (should be a %d-character '
                                   'hex digest)' % (value, algo, length))
    return {'os_hash_algo': algo, 'os_hash_value': value.lower()}


def add_location(request, image_id):
    body = wsgi.read_json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get('url'), str):
        raise exception.BadRequest('The request body must be an object with '
                                   'a "url" string.')
    unknown = set(body) - {'url', 'validation_data'}
    if unknown:
        raise exception.BadRequest('Unknown attribute(s): %s'
                                   % ', '.join(sorted(unknown)))
    url = body['url']
    context = images.context_of(request)
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
    validation = _check_validation_data(body.get('validation_data') or {})
    task = domain_task.new_task(
        location_import.TASK_TYPE, owner=context.project_id,
        user_id=context.user_id, request_id=context.request_id,
        image_id=image.id, task_input=location_import.task_input(
            image.id, url, store_id if backends.multistore() else None,
            validation))
    try:
        # The import lock: one operation on the image's data at a time.
        # The node is named as for an import, so that a restart after a
        # crash puts the image back to queued (async_.recovery).
        db_tasks.begin_import(task, image.id, 'queued', properties={
            import_state.IMPORT_HOST: staging.node_id()})
    except db_tasks.ImportLocked as e:
        raise exception.Conflict('New operation on image %s is not '
                                 'permitted as prior operation is still in '
                                 'progress: %s' % (image.id, e.message))
    executor.submit(task.id, context)
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
