"""Imports whose process died: found at start-up, or when a lock is stale.

Every import names the node running it in the image's (hidden)
os_glance_import_host property, set together with the lock. When
glance-api starts, before its workers run anything, the imports its node
was running are orphans: their tasks fail with a reason, the image goes
back to queued (copy-image: stays active) with its stores in
os_glance_failed_import, and staged and half-written data is removed.
Stages that were cut short are returned to queued the same way.

Running tasks are touched every minute, so a lock whose task has not
moved for an hour (two hours while pending), as the reference judges
it, belongs to a task nobody runs: a new import may break it
(break_stale_lock).
"""

import datetime
import os

from oslo_config import cfg
from oslo_log import log as logging

from glance.async_.flows import api_image_import as flow
from glance.async_.flows import import_state
from glance.common import exception
from glance.db import images as db_images
from glance.db import tasks as db_tasks
from glance.domain import image as domain_image
from glance import gateway
from glance.store import backends
from glance.store import staging
from glance.store import upload

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

STALE_PROCESSING = datetime.timedelta(minutes=60)
STALE_PENDING = datetime.timedelta(minutes=120)
# A live task without the lock of its image is finishing (the lock goes
# just before the task is marked done); after this, it is an orphan.
UNLOCKED_GRACE = datetime.timedelta(minutes=2)


def is_stale(task, now=None):
    now = now or domain_image.utcnow()
    if not task.is_live:
        return True
    limit = STALE_PENDING if task.status == 'pending' else \
        STALE_PROCESSING
    return now - (task.updated_at or task.created_at) > limit


def remove_unreferenced_store_files(image_id):
    """Data an import put in file stores but never recorded."""
    upload.discard_partial(image_id)
    try:
        image = db_images.get_any(image_id, include_deleted=True)
        referenced = {loc['url'] for loc in image.locations}
    except exception.NotFound:
        referenced = set()
    stores = (list(backends.user_store_types()) if backends.multistore()
              else [None])
    for store in stores:
        if backends.store_type(store) != 'file':
            continue
        try:
            driver = backends.get_store(store)
            dirs = getattr(driver, 'datadirs', None) or [driver.datadir]
        except Exception:
            continue
        for datadir in dirs:
            datadir = getattr(datadir, 'path', datadir)
            candidate = os.path.join(str(datadir), str(image_id))
            if os.path.exists(candidate) and \
                    'file://' + candidate not in referenced:
                LOG.info('Removing unrecorded data %s', candidate)
                try:
                    os.unlink(candidate)
                except FileNotFoundError:
                    pass


def _restore(task):
    """Put the image of a dead import back as a failed import leaves it."""
    state = import_state.ImportState(task, None)
    import_state.ImageLock(state).revert()
    remove_unreferenced_store_files(task.image_id)


def fail_orphan(task, reason):
    if task.is_live:
        gateway.get().get_task_runner().set_status(task.id, 'failure',
                                                   message=reason)
    _restore(task)


def break_stale_lock(image_id, holder):
    """Break the lock of a dead task; True if the lock is gone now."""
    try:
        task = db_tasks.get(holder, include_expired=True)
    except exception.NotFound:
        task = None
    if task is not None and not is_stale(task):
        return False
    if task is not None and task.is_live:
        reason = ('The import made no progress for %d minutes and was '
                  'abandoned; another import took over the image.'
                  % ((STALE_PENDING if task.status == 'pending' else
                      STALE_PROCESSING).total_seconds() // 60))
    else:
        reason = 'The import ended without releasing its lock.'
    broken = db_tasks.break_lock(image_id, holder, reason,
                                 repair_status='queued')
    if broken and task is not None:
        LOG.warning('Broke the stale import lock of image %s held by task '
                    '%s', image_id, holder)
        _restore(task)
    return True


def recover_orphans():
    """At start-up: fail the imports this node was running, repair images."""
    node = staging.node_id()
    for image_id, task_id in db_tasks.images_locked_by_host(
            import_state.IMPORT_HOST, node):
        try:
            task = db_tasks.get(task_id, include_expired=True)
        except exception.NotFound:
            db_tasks.break_lock(image_id, task_id, '', repair_status='queued')
            continue
        LOG.warning('Task %s (import of image %s) was running when this '
                    'node stopped; failing it.', task_id, image_id)
        fail_orphan(task, 'The import was interrupted because the '
                    'glance-api process running it (node %s) stopped. '
                    'Start the import again.' % node)
    _recover_unlocked_tasks()
    _recover_stages()


def _recover_unlocked_tasks():
    """Live import tasks that no longer hold their image's lock."""
    now = domain_image.utcnow()
    for task in db_tasks.list_tasks(status='processing', limit=1000) + \
            db_tasks.list_tasks(status='pending', limit=1000):
        if task.type != flow.TASK_TYPE or not task.image_id:
            continue
        if now - (task.updated_at or task.created_at) < UNLOCKED_GRACE:
            continue
        if db_tasks.lock_holder(task.image_id) == task.id:
            continue
        try:
            image = db_images.get_any(task.image_id, include_deleted=True)
            done = image.status == 'active' and all(
                s in image.stores for s in (task.input.get('backend') or [])
                if s)
        except exception.NotFound:
            done = False
        tasks = gateway.get().get_task_runner()
        if done:
            tasks.set_status(task.id, 'success',
                             result={'image_id': task.image_id})
        else:
            tasks.set_status(task.id, 'failure', message=(
                'The import was interrupted; start it again.'))


def _recover_stages():
    """Stages cut short on this node: back to queued."""
    host = staging.stage_host()
    for image_id in db_images.find_by_host('uploading',
                                           import_state.STAGE_HOST, host):
        if staging.exists(image_id) and staging.load_info(image_id):
            continue
        LOG.warning('Image %s was being staged when this node stopped; '
                    'returning it to queued.', image_id)
        staging.discard(image_id)
        try:
            image = db_images.get_any(image_id)
            image.set_status('queued')
            image.extra_properties.pop(import_state.STAGE_HOST, None)
            db_images.save(None, image)
        except exception.GlanceError:
            LOG.info('Image %s changed meanwhile', image_id)
