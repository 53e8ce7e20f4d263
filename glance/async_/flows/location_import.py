"""The location_import task: POST /v2/images/{id}/locations, finished.

The request took the image's import lock and wrote this task; here the
location is added, with the size its store reports, and then, by
configuration:

    do_secure_hash, validation data   importing -> hash the data at the
                                      location -> compare -> active; a
                                      mismatch puts the image back to
                                      queued and fails the task
    do_secure_hash, no data           active at once, then the hashes
                                      are computed and recorded
    validation data only              its values are recorded, active
    neither                           active

As in the reference, an http location is not removed when the image
goes back to queued (the http store cannot delete). Deleting the image
while its data is being hashed cancels the task: the hashing looks at
the image between chunks and stops once it is gone.
"""

import hashlib
import time

from oslo_config import cfg
from oslo_log import log as logging

from glance.async_.flows import import_state
from glance.common import exception
from glance import context as glance_context
from glance.db import images as db_images
from glance.db import tasks as db_tasks
from glance import gateway
from glance.store import backends

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

TASK_TYPE = 'location_import'
# How often, at most, the hashing looks whether the image still exists.
CANCEL_CHECK_SECONDS = 1.0


class HashMismatch(exception.BadRequest):
    pass


class Canceled(exception.NotFound):
    def __init__(self, image_id):
        super().__init__('Image %s was deleted; the hash calculation is '
                         'canceled.' % image_id)


def task_input(image_id, url, store_id, validation_data):
    return {'image_id': image_id, 'loc_url': url, 'store': store_id,
            'validation_data': validation_data or {}}


def _repo():
    return gateway.get().get_image_repo(glance_context.admin_context())


def _image(image_id):
    try:
        return _repo().get(image_id)
    except exception.NotFound:
        raise Canceled(image_id)


def _save(image):
    try:
        _repo().save(image)
    except exception.ImageNotFound:
        raise Canceled(image.id)


def _hash(image_id, url, store_id, algorithm):
    """(md5, digest in algorithm) of the data at url, read as a stream;
    Canceled once the image is deleted."""
    md5 = hashlib.md5(usedforsecurity=False)
    digest = hashlib.new(algorithm)
    chunks, _size = backends.read(url, store_id)
    checked = time.monotonic()
    for chunk in chunks:
        md5.update(chunk)
        digest.update(chunk)
        if time.monotonic() - checked > CANCEL_CHECK_SECONDS:
            checked = time.monotonic()
            _image(image_id)
    return md5.hexdigest(), digest.hexdigest()


def _hash_with_retries(image_id, url, store_id, algorithm):
    for attempt in range(CONF.http_retries + 1):
        try:
            return _hash(image_id, url, store_id, algorithm)
        except (Canceled, exception.NotFound):
            raise
        except Exception as e:
            LOG.warning('Hashing the data of image %s at %s failed '
                        '(attempt %d): %s', image_id, url, attempt + 1, e)
            if attempt == CONF.http_retries:
                raise exception.GlanceError('Hash calculation failed for '
                                            'image %s data' % image_id)


def _release_lock(image_id, task_id):
    try:
        image = _repo().get(image_id)
    except exception.NotFound:
        return
    if image.extra_properties.get(db_tasks.LOCK_PROPERTY) == task_id:
        del image.extra_properties[db_tasks.LOCK_PROPERTY]
        image.extra_properties.pop(import_state.IMPORT_HOST, None)
        _repo().save(image)


def _back_to_queued(image_id):
    try:
        image = _repo().get(image_id)
    except exception.NotFound:
        return
    if image.status == 'importing':
        image.set_status('queued')
    image.checksum = image.os_hash_algo = image.os_hash_value = None
    _repo().save(image)


def _add_location(image, url, store_id):
    image.size = backends.size_of(url, store_id)
    metadata = {'store': store_id} if backends.multistore() else {}
    image.add_location(url, metadata)


def _verified(image_id, url, store_id, expected):
    algorithm = expected['os_hash_algo']
    image = _image(image_id)
    image.set_status('importing')
    image.os_hash_algo = algorithm
    _save(image)
    checksum, value = _hash_with_retries(image_id, url, store_id,
                                         algorithm)
    if value != expected['os_hash_value'].lower():
        raise HashMismatch('os_hash_value: (%s) not matched with actual '
                           'os_hash_value: (%s)'
                           % (expected['os_hash_value'], value))
    image = _image(image_id)
    image.checksum, image.os_hash_value = checksum, value
    image.set_status('active')
    _save(image)


def run(task, context):
    """(result, message) of a location_import task, or raise."""
    data = task.input or {}
    image_id, url = data['image_id'], data['loc_url']
    store_id = data.get('store')
    expected = data.get('validation_data') or {}
    try:
        image = _image(image_id)
        _add_location(image, url, store_id)
        if CONF.do_secure_hash and expected:
            _save(image)
            try:
                _verified(image_id, url, store_id, expected)
            except Canceled:
                raise
            except Exception:
                _back_to_queued(image_id)
                raise
        elif CONF.do_secure_hash:
            # The algorithm is recorded with the move to active, so a
            # client that sees the image active sees the hash coming.
            image.os_hash_algo = CONF.hashing_algorithm
            image.set_status('active')
            _save(image)
            _release_lock(image_id, task.id)
            checksum, value = _hash_with_retries(
                image_id, url, store_id, CONF.hashing_algorithm)
            db_images.set_hashes(image_id, checksum,
                                 CONF.hashing_algorithm, value)
        else:
            if expected:
                image.os_hash_algo = expected['os_hash_algo']
                image.os_hash_value = expected['os_hash_value'].lower()
            image.set_status('active')
            _save(image)
    finally:
        _release_lock(image_id, task.id)
    return {'image_id': image_id}, ''
