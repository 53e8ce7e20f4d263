"""Putting data into an image: queued -> saving -> active, or back.

A failed upload (client gone, store error, size or quota exceeded, bad
format) removes whatever it wrote and returns the image to queued, so the
user can simply retry. An upload whose process died is found again: each
upload names its node in os_glance_upload_host and refreshes updated_at
while it runs, so a restarted node resets its own orphans at start-up, and
an upload whose heartbeat stopped long ago may be taken over by a new one.
"""

import datetime
import glob
import os
import socket

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import format_check
from glance.common import streams
from glance.db import images as db_images
from glance.domain import image as domain
from glance.domain import quota
from glance.store import backends
from glance.store import writer

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

UPLOAD_HOST = 'os_glance_upload_host'
# A heartbeat older than this means the upload's process is gone.
STALE_AFTER = datetime.timedelta(seconds=10 * streams.HEARTBEAT_SECONDS)


def node_id():
    return '%s:%s' % (socket.gethostname(), CONF.bind_port)


def _is_stale(image):
    return (image.updated_at is not None and
            domain.utcnow() - image.updated_at > STALE_AFTER)


def begin(repo, image):
    """Move a queued image (or a dead upload's) to saving; 409 if busy."""
    if image.status == 'saving' and _is_stale(image):
        LOG.warning('Taking over the stale upload of image %s', image.id)
        discard_partial(image.id)
    elif image.status != 'queued':
        raise exception.Conflict('Image status must be queued to upload '
                                 'data, not %s.' % image.status)
    if not image.disk_format or not image.container_format:
        raise exception.BadRequest('Properties disk_format and '
                                   'container_format must be set prior to '
                                   'uploading data.')
    image.set_status('saving')
    image.extra_properties[UPLOAD_HOST] = node_id()
    repo.save(image)


def abort(repo, image):
    """Return an image whose upload failed to queued."""
    image.status = 'queued'
    image.extra_properties.pop(UPLOAD_HOST, None)
    try:
        repo.save(image)
    except exception.GlanceError:
        # Deleted or changed meanwhile: nothing of ours left to undo.
        LOG.info('Image %s changed while its upload failed', image.id)


def upload(repo, image, request, store_id=None):
    """Stream the request body into the store and activate the image.

    The quotas are checked, and the expected size reserved, in the
    transaction that moves the image to saving, before any byte is
    stored (see glance.domain.quota.DataClaim).
    """
    limit = CONF.image_size_cap
    limit_message = 'Image exceeds the image_size_cap of %d bytes.' % limit
    declared = streams.declared_size(request)
    expected = streams.expected_size(request, declared, limit,
                                     limit_message)
    checker = format_check.FormatChecker(
        image.disk_format, CONF.image_format.require_image_format_match)
    claim = quota.DataClaim(repo.context.owner, repo.context, image.id,
                            quota.IMAGE_SIZE_TOTAL)
    claim.start(expected, lambda: begin(repo, image))
    repo.notify_prepare(image, backend=store_id)
    chunks = claim.meter(streams.request_chunks(
        request, CONF.data_chunk_size, limit, limit_message,
        declared=declared, checker=checker,
        heartbeat=lambda: db_images.touch(image.id, 'saving')))

    def check_format_at_end():
        yield from chunks
        # Raised inside the writer's loop, so it removes what it wrote.
        check_format_at_end.result = checker.finish()

    try:
        written = writer.write(image.id, check_format_at_end(),
                               size=expected, store_id=store_id,
                               context=repo.context)
    except BaseException as e:
        repo.notify_upload_failed(image.id, e)
        abort(repo, image)
        raise
    _, virtual_size = check_format_at_end.result
    activate(repo, image, written, virtual_size)
    repo.notify_upload(image)
    repo.notify_activate(image)


def activate(repo, image, written, virtual_size):
    """Record the written data and make the image active."""
    image.size = written.size
    image.checksum = written.checksum
    image.os_hash_algo = written.os_hash_algo
    image.os_hash_value = written.os_hash_value
    image.virtual_size = virtual_size
    image.add_location(written.url, written.metadata)
    image.extra_properties.pop(UPLOAD_HOST, None)
    image.set_status('active')
    try:
        repo.save(image)
    except BaseException:
        backends.delete(written.url, written.store_id)
        raise


def discard_partial(image_id):
    """Remove partial files an interrupted upload left in file stores."""
    groups = (backends.user_store_types() if backends.multistore()
              else {None: CONF.glance_store.default_store})
    for store_id, kind in groups.items():
        if kind != 'file':
            continue
        datadir = (CONF[store_id] if store_id else
                   CONF.glance_store).filesystem_store_datadir
        if not datadir:
            continue
        for path in glob.glob(os.path.join(datadir, '%s.partial-*'
                                           % image_id)):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def recover_orphans():
    """At start-up: reset the uploads this node was running when it died."""
    for image_id in db_images.find_by_host('saving', UPLOAD_HOST, node_id()):
        try:
            image = db_images.get_any(image_id)
        except exception.NotFound:
            continue
        LOG.warning('Image %s was being uploaded when this node stopped; '
                    'returning it to queued.', image_id)
        discard_partial(image_id)
        abort(db_images.ImageRepo(None), image)
