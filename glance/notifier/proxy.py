"""The notification layer of the gateway: an event after each saved change.

ImageRepoProxy, MemberRepoProxy and TaskRepoProxy wrap the repositories
(under the policy proxy, above property protections, so an image they
see has already lost what the caller may not read). Each sends its event
only after the call below it returned: nothing is announced that was not
saved. The data paths (upload, import, download) report their steps to
the image repository's notify_* methods, which are here too.

TaskRunner is the executor's view of tasks: it moves a task on and
announces it (task.run, task.processing, task.success, task.failure).

Building and queueing an event never raises into the request: a failure
is logged and the request goes on.
"""

from oslo_log import log as logging

from glance.notifier import payloads
from glance.notifier import sender

LOG = logging.getLogger(__name__)


def _emit(event_type, build, priority='info'):
    """Send the payload build() makes, if the event type is enabled."""
    try:
        if not sender.is_enabled(event_type):
            return
        sender.send(event_type, build(), priority)
    except Exception:
        LOG.exception('Could not send notification %s', event_type)


class ImageRepoProxy:
    def __init__(self, repo, context, can_read):
        self.repo = repo
        self.context = context
        self.can_read = can_read

    def _image_event(self, event_type, image, extra=None, priority='info'):
        def build():
            payload = payloads.image(image, self.can_read)
            payload.update(extra() if extra else {})
            return payload
        _emit(event_type, build, priority)

    def add(self, image):
        result = self.repo.add(image)
        self._image_event('image.create', image)
        return result

    def save(self, image, *args, **kwargs):
        result = self.repo.save(image, *args, **kwargs)
        self._image_event('image.update', image)
        return result

    def remove(self, image):
        result = self.repo.remove(image)
        _emit('image.delete', lambda: payloads.deleted(
            payloads.image(image, self.can_read)))
        return result

    # -- the data paths ------------------------------------------------

    def _import_lists(self, image):
        return lambda: payloads.import_lists(image, self.can_read)

    def notify_prepare(self, image, backend=None):
        """Data is about to be written into a store (image.prepare).

        image may be a function that loads it, called only if the event
        is sent."""
        def build():
            loaded = image() if callable(image) else image
            payload = payloads.image(loaded, self.can_read)
            payload.update(payloads.import_lists(loaded, self.can_read))
            if backend:
                payload['backend'] = backend
            return payload
        _emit('image.prepare', build)

    def notify_upload(self, image):
        """Data was written into a store (image.upload)."""
        self._image_event('image.upload', image, self._import_lists(image))

    def notify_upload_failed(self, image_id, error):
        """Writing data failed: image.upload at ERROR, with the reason as
        the whole payload, as the reference sends it."""
        reason = (getattr(error, 'message', None) or str(error) or
                  error.__class__.__name__)
        _emit('image.upload', lambda: 'Failed to upload image data for '
              'image %s: %s' % (image_id, reason), priority='error')

    def notify_activate(self, image):
        self._image_event('image.activate', image)

    def counted_download(self, image, body, length):
        """The body of a download, reporting image.send when the server
        is done with it (ERROR when fewer bytes went out than were due).

        Unchanged when image.send is not sent, so that the server may
        still hand a local file to sendfile()."""
        if not sender.is_enabled('image.send'):
            return body
        context = self.context

        def done(sent):
            _emit('image.send',
                  lambda: payloads.image_send(image, context, sent),
                  priority='info' if sent == length else 'error')
        return CountingBody(body, length, done)

    def __getattr__(self, name):
        return getattr(self.repo, name)


class CountingBody:
    """A WSGI body that counts the bytes the server took from it.

    A chunk counts once the server asks for the next one (it has written
    the previous); the server calls close() when it is done, whether the
    client read everything or went away. It ends after length bytes: a
    server's file wrapper, iterated, would read a range to the end of
    the file."""

    def __init__(self, body, length, on_close):
        self.body = body
        self.chunks = iter(body)
        self.length = length
        self.on_close = on_close
        self.sent = 0
        self.pending = 0
        self.closed = False

    def __iter__(self):
        return self

    def __next__(self):
        self.sent += self.pending
        self.pending = 0
        remaining = self.length - self.sent
        if remaining <= 0:
            raise StopIteration
        chunk = next(self.chunks)[:remaining]
        self.pending = len(chunk)
        return chunk

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            close = getattr(self.body, 'close', None)
            if close is not None:
                close()
        finally:
            self.on_close(self.sent)


class MemberRepoProxy:
    def __init__(self, repo):
        self.repo = repo

    def add(self, member_id):
        member = self.repo.add(member_id)
        _emit('image.member.create', lambda: payloads.member(member))
        return member

    def update_status(self, member, status):
        result = self.repo.update_status(member, status)
        _emit('image.member.update', lambda: payloads.member(result))
        return result

    def remove(self, member):
        result = self.repo.remove(member)
        _emit('image.member.delete',
              lambda: payloads.deleted(payloads.member(member)))
        return result

    def __getattr__(self, name):
        return getattr(self.repo, name)


class TaskRepoProxy:
    def __init__(self, repo):
        self.repo = repo

    def add(self, task):
        result = self.repo.add(task)
        _emit('task.create', lambda: payloads.task(task))
        return result

    def begin_import(self, task, *args, **kwargs):
        result = self.repo.begin_import(task, *args, **kwargs)
        _emit('task.create', lambda: payloads.task(task))
        return result

    def __getattr__(self, name):
        return getattr(self.repo, name)


STATUS_EVENTS = {'processing': 'task.processing',
                 'success': 'task.success',
                 'failure': 'task.failure'}


class TaskRunner:
    """Moves tasks on for the executor, and says so."""

    def __init__(self, tasks):
        # The data layer's task functions (glance.db.tasks).
        self.tasks = tasks

    def _task_event(self, event_type, task_id):
        _emit(event_type, lambda: payloads.task(
            self.tasks.get(task_id, include_expired=True)))

    def submitted(self, task_id):
        """The executor took the task (task.run)."""
        self._task_event('task.run', task_id)

    def set_status(self, task_id, status, **kwargs):
        moved = self.tasks.set_status(task_id, status, **kwargs)
        if moved:
            self._task_event(STATUS_EVENTS[status], task_id)
        return moved
