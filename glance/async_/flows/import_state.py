"""What the tasks of one import share: its state, the image's lock and
the bookkeeping properties, and the base of every task of an import flow.

The flows of api_image_import and glance_download are built from these;
ImageLock's revert is also what recovery runs for an import whose process
died.
"""

import contextlib

from oslo_log import log as logging
from taskflow import task as tf_task

from glance.async_ import executor
from glance.common import exception
from glance import context as glance_context
from glance.db import tasks as db_tasks
from glance.domain import quota
from glance import gateway
from glance.store import backends
from glance.store import staging

LOG = logging.getLogger(__name__)

LOCK = db_tasks.LOCK_PROPERTY
IMPORT_HOST = 'os_glance_import_host'
STAGE_HOST = 'os_glance_stage_host'
IMPORTING = 'os_glance_importing_to_stores'
FAILED = 'os_glance_failed_import'


class LockLost(exception.Conflict):
    def __init__(self, image_id):
        super().__init__('The import lock of image %s was taken by another '
                         'import; this one stops.' % image_id)


class ValidationFailed(exception.BadRequest):
    pass


class ImageGone(exception.NotFound):
    def __init__(self, image_id):
        super().__init__('Image %s was deleted while it was being '
                         'imported.' % image_id)


def store_list(value):
    return [s for s in (value or '').split(',') if s]


def edit_store_list(image, name, add=(), remove=()):
    """Edit a comma-list bookkeeping property (multi-store only)."""
    if not backends.multistore():
        return
    items = [s for s in store_list(image.extra_properties.get(name))
             if s not in remove]
    for store in add:
        if store and store not in items:
            items.append(store)
    image.extra_properties[name] = ','.join(items)


class ImportState:
    """What the tasks of one import share."""

    def __init__(self, task, context):
        self.task_id = task.id
        self.image_id = task.image_id
        self.task_input = task.input or {}
        self.import_req = self.task_input.get('import_req') or {}
        self.method = (self.import_req.get('method') or {}).get('name')
        self.stores = list(self.task_input.get('backend') or [None])
        self.must_succeed = bool(self.import_req.get(
            'all_stores_must_succeed', True))
        self.admin_context = glance_context.admin_context()
        self.context = context or self.admin_context
        # Changes are announced with what the importing user may read.
        self.repo = gateway.get().get_image_repo(self.admin_context,
                                                 reader=context)
        self.written = {}
        self.failed = []
        self.info = None
        self.original = {}
        self.original_props = {}
        self.remote = None

    @property
    def is_copy(self):
        return self.method == 'copy-image'

    @property
    def staging_path(self):
        return staging.path(self.image_id)

    def get_image(self):
        try:
            return self.repo.get(self.image_id)
        except exception.NotFound:
            raise ImageGone(self.image_id)

    @contextlib.contextmanager
    def image_action(self, check_lock=True):
        """A fresh copy of the image to change; saved on the way out."""
        image = self.get_image()
        if check_lock and image.extra_properties.get(LOCK) != self.task_id:
            raise LockLost(self.image_id)
        yield image
        try:
            self.repo.save(image)
        except exception.ImageNotFound:
            raise ImageGone(self.image_id)

    def progress(self, verb, total=None):
        return executor.Progress(self.task_id, verb, total)

    def remember(self, image, *names):
        """Keep attributes a plugin is about to change, for the revert."""
        for name in names:
            self.original.setdefault(name, getattr(image, name))

    def validation_algorithms(self):
        """The algorithm of the expected hash the request gave, if any."""
        data = (self.import_req.get('method') or {}).get('validation_data')
        if data and data.get('os_hash_algo'):
            return [data['os_hash_algo']]
        return []

    def storage_limit(self, image):
        return quota.storage_limit(image.owner)

    def owns_image(self):
        """False once another import has taken the image's lock."""
        try:
            return db_tasks.lock_holder(self.image_id) in (None,
                                                           self.task_id)
        except Exception:
            return False

    def discard_staging(self):
        if self.owns_image():
            staging.discard(self.image_id)


def limited(chunks, limit, message):
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise exception.LimitExceeded(message)
        yield chunk


class Task(tf_task.Task):
    def __init__(self, state, name=None, **kwargs):
        super().__init__(name=name or self.__class__.__name__.lstrip('_'),
                         **kwargs)
        self.state = state


class ImageLock(Task):
    """Checks the lock; its revert restores the image (it runs last)."""

    def execute(self):
        with self.state.image_action():
            pass

    def revert(self, *args, **kwargs):
        state = self.state
        try:
            holder = db_tasks.lock_holder(state.image_id)
            if holder not in (None, state.task_id):
                # Our lock was broken and another import runs now: the
                # image and the staged data are its business.
                LOG.warning('Import %s of image %s lost its lock to %s; '
                            'leaving the image alone.', state.task_id,
                            state.image_id, holder)
                return
            staging.discard(state.image_id)
            with state.image_action(check_lock=False) as image:
                if image.extra_properties.get(LOCK) == state.task_id:
                    del image.extra_properties[LOCK]
                image.extra_properties.pop(IMPORT_HOST, None)
                image.extra_properties.pop(STAGE_HOST, None)
                kept = set(image.stores)
                missing = [s for s in state.stores
                           if s and s not in kept]
                edit_store_list(image, IMPORTING, remove=state.stores)
                edit_store_list(image, FAILED, add=missing)
                for name, value in state.original.items():
                    setattr(image, name, value)
                for name, value in state.original_props.items():
                    if value is None:
                        image.extra_properties.pop(name, None)
                    else:
                        image.extra_properties[name] = value
                if not state.is_copy and image.status == 'importing':
                    image.set_status('queued')
        except exception.NotFound:
            LOG.info('Image %s is gone; nothing to restore.', state.image_id)
        except Exception:
            LOG.exception('Could not restore image %s after its failed '
                          'import', state.image_id)
