"""Caching the queued images ahead of their first download.

PUT /v2/cache/{image_id} leaves an empty file in the cache's queue
directory, so the queue survives restarts. A thread in each API process
works through the queue when woken by such a PUT and every
cache_prefetcher_interval seconds; glance-cache-prefetcher does one pass
from cron. Two prefetchers (threads, workers, the command) never fetch
one image twice at once: a fetch holds the image's incomplete-file lock.
"""

import os
import threading

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.db import images as db_images
from glance import image_cache
from glance.image_cache import fill as fill_lib
from glance.store import backends

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_WORKER = None
_WORKER_LOCK = threading.Lock()


def _locations(image):
    locations = list(image.active_locations)
    locations.sort(key=lambda loc: -backends.weight(
        loc['metadata'].get('store')))
    return locations


def fetch(cache, image_id):
    """Cache one queued image; True once it is cached."""
    try:
        image = db_images.get_any(image_id)
    except exception.NotFound:
        LOG.warning('Queued image %s does not exist; dropped from the '
                    'queue.', image_id)
        cache.dequeue(image_id)
        return False
    if cache.is_cached(image_id):
        cache.dequeue(image_id)
        return True
    if image.status != 'active':
        LOG.warning('Queued image %s is %s, not active; not caching it.',
                    image_id, image.status)
        return False
    fill = cache.begin_fill(image)
    if fill is None:
        LOG.debug('Image %s is being cached by someone else', image_id)
        return False
    try:
        for location in _locations(image):
            try:
                data, _size = backends.read(
                    location['url'], location['metadata'].get('store'))
                for chunk in data:
                    fill.write(chunk)
            except Exception as e:
                LOG.warning('Cannot read image %s from %s: %s', image_id,
                            location['url'], e)
                os.ftruncate(fill.fd, 0)
                os.lseek(fill.fd, 0, os.SEEK_SET)
                fill.written = 0
                continue
            return fill.commit()
        fill.abort('no store could be read')
        return False
    except BaseException as e:
        fill.abort(str(e))
        raise


def run_once(cache=None):
    """One pass over the queue; (cached, failed) counts."""
    cache = cache or image_cache.get()
    done = failed = 0
    for image_id in cache.queued_images():
        try:
            ok = fetch(cache, image_id)
        except Exception:
            LOG.exception('Prefetching image %s failed', image_id)
            ok = False
        if ok:
            done += 1
        else:
            failed += 1
    if done or failed:
        LOG.info('Prefetcher: %d images cached, %d not', done, failed)
    return done, failed


class Worker(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True, name='glance-cache-prefetcher')
        self.pid = os.getpid()
        self.wakeup = threading.Event()

    def run(self):
        fill_lib.lower_priority()
        while True:
            try:
                run_once()
            except Exception:
                LOG.exception('Prefetcher pass failed')
            self.wakeup.wait(CONF.cache_prefetcher_interval)
            self.wakeup.clear()


def ensure_started():
    """Start this process's prefetcher thread (once per process: after a
    fork the parent's thread is gone)."""
    global _WORKER
    worker = _WORKER
    if worker is not None and worker.pid == os.getpid():
        return worker
    if not CONF.image_cache_dir:
        return None
    with _WORKER_LOCK:
        if _WORKER is None or _WORKER.pid != os.getpid():
            _WORKER = Worker()
            _WORKER.start()
    return _WORKER


def wake():
    worker = ensure_started()
    if worker is not None:
        worker.wakeup.set()
