"""Running tasks: a thread pool per API worker, one taskflow engine per task.

POST /v2/images/{id}/import writes the task row (pending) and hands the
task id to submit(); the request returns 202 at once. A pool thread
([wsgi] task_pool_threads of them per worker process) marks the task
processing, builds its flow, runs it with a serial taskflow engine, and
records success or failure. Tasks a process runs are touched every
HEARTBEAT_SECONDS so that a live import never looks abandoned, and
report their progress in the task message.

The pool is created on first use, in the worker process (gunicorn forks
its workers after the application is built).
"""

import concurrent.futures
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import tasks as db_tasks
from glance import gateway

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60
PROGRESS_SECONDS = 1.0

_lock = threading.Lock()
_pool = None
_running = set()
_heart = None


def _get_pool():
    global _pool, _heart
    with _lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=CONF.wsgi.task_pool_threads,
                thread_name_prefix='glance-task')
            _heart = threading.Thread(target=_heartbeat, daemon=True,
                                      name='glance-task-heartbeat')
            _heart.start()
        return _pool


def _heartbeat():
    while True:
        time.sleep(HEARTBEAT_SECONDS)
        with _lock:
            ids = list(_running)
        try:
            db_tasks.touch(ids)
        except Exception:
            LOG.exception('Task heartbeat failed')


def submit(task_id, context, runner=None):
    """Run a pending task in the background; returns a Future."""
    pool = _get_pool()
    with _lock:
        # Touched by the heartbeat while it waits for a thread, too.
        _running.add(task_id)
    # Announced before a pool thread can announce task.processing.
    gateway.get().get_task_runner().submitted(task_id)
    return pool.submit(_run, task_id, context, runner)


def running():
    with _lock:
        return set(_running)


def describe_error(error):
    """Plain words for why a task failed."""
    if isinstance(error, exception.GlanceError):
        return error.message
    if isinstance(error, OSError) and error.strerror:
        return '%s: %s' % (error.strerror, error.filename or '') \
            if error.filename else error.strerror
    text = str(error) or error.__class__.__name__
    return 'Unexpected error: %s' % text


def _run(task_id, context, runner=None):
    with _lock:
        _running.add(task_id)
    tasks = gateway.get().get_task_runner()
    try:
        if not tasks.set_status(task_id, 'processing'):
            LOG.info('Task %s is no longer pending; not running it.',
                     task_id)
            return
        if runner is None:
            from glance.async_ import runners
            runner = runners.run
        try:
            result, message = runner(task_id, context)
        except Exception as e:
            message = describe_error(e)
            LOG.warning('Task %s failed: %s', task_id, message,
                        exc_info=not isinstance(e, exception.GlanceError))
            tasks.set_status(task_id, 'failure', message=message)
            return
        tasks.set_status(task_id, 'success', message=message or '',
                         result=result)
    except Exception:
        LOG.exception('Task %s could not be recorded', task_id)
    finally:
        with _lock:
            _running.discard(task_id)


class Progress:
    """Reports bytes done (and percent, when the total is known) in the
    task message, at most once a second."""

    def __init__(self, task_id, verb, total=None):
        self.task_id = task_id
        self.verb = verb
        self.total = total
        self._last = 0.0
        self.done = 0

    def __call__(self, done):
        self.done = done
        now = time.monotonic()
        if now - self._last < PROGRESS_SECONDS:
            return
        self._last = now
        self.report()

    def report(self):
        try:
            db_tasks.set_message(self.task_id, self.message())
        except Exception:
            LOG.debug('Could not report the progress of task %s',
                      self.task_id, exc_info=True)

    def message(self):
        text = '%s %s' % (self.verb, human_size(self.done))
        if self.total:
            percent = min(100, int(self.done * 100 / self.total))
            text += ' of %s (%d%%)' % (human_size(self.total), percent)
        return text


def human_size(n):
    for unit in ('bytes', 'KiB', 'MiB', 'GiB', 'TiB'):
        if n < 1024 or unit == 'TiB':
            if unit == 'bytes':
                return '%d bytes' % n
            return '%.1f %s' % (n, unit)
        n /= 1024.0
