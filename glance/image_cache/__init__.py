"""The image cache of this node: image files on local disk, served
instead of the store, with records of their use.

get() gives the node's cache, or None when [DEFAULT] image_cache_dir is
not set. The download handler asks it for a servable file (lookup) or
for a fill beside a store download (begin_fill); the cache API, the
prefetcher and the glance-cache-* commands use the rest.
"""

import collections
import os
import socket
import threading
import time

from oslo_config import cfg
from oslo_log import log as logging

from glance.image_cache import drivers
from glance.image_cache import fill as fill_lib
from glance.image_cache import layout as layout_lib

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_CACHE = None
_CACHE_LOCK = threading.Lock()


def node_url():
    """How this node is named in the shared records."""
    return (CONF.worker_self_reference_url or CONF.public_endpoint or
            'file://%s%s' % (socket.gethostname(),
                             os.path.abspath(CONF.image_cache_dir)))


class ImageCache:
    def __init__(self, base_dir, driver, node, sqlite_db='cache.db'):
        self.layout = layout_lib.Layout(base_dir)
        self.records = drivers.load(driver.lower(), self.layout, node,
                                    sqlite_db)
        self.counts = collections.Counter()
        self._counts_lock = threading.Lock()

    # -- serving -------------------------------------------------------

    def _count(self, outcome, image_id):
        with self._counts_lock:
            self.counts[outcome] += 1
            hits, misses = self.counts['hit'], self.counts['miss']
        LOG.info('Image cache %s for image %s (this process: %d hits, %d '
                 'misses)', outcome, image_id, hits, misses)

    def lookup(self, image):
        """The path of the image's cached file if it can be served.

        The caller has loaded the image from the database and checked
        that it is active; the file must also have the image's size.
        """
        path = self.layout.path(image.id)
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            return None
        if image.size is not None and size != image.size:
            LOG.error('Cached file of image %s has %d bytes, the image %d;'
                      ' removing it.', image.id, size, image.size)
            self.delete(image.id)
            return None
        self._count('hit', image.id)
        try:
            self.records.hit(image.id)
        except Exception:
            LOG.exception('Could not count a hit of image %s', image.id)
        return path

    def miss(self, image):
        self._count('miss', image.id)

    def begin_fill(self, image):
        """A Fill of the image if nobody is caching it already."""
        if self.layout.exists(image.id):
            return None
        fd = self.layout.lock_incomplete(image.id)
        if fd is None:
            return None
        if self.layout.exists(image.id):
            os.close(fd)
            return None
        os.ftruncate(fd, 0)
        return fill_lib.Fill(self, image, fd)

    def prefetch_soon(self):
        # Imported here: the prefetcher is built on this module.
        from glance.image_cache import prefetcher
        prefetcher.wake()

    def committed(self, image_id, size, checksum):
        self.records.add(image_id, size, checksum)
        self.layout.remove(image_id, 'queue')
        LOG.info('Image %s cached (%d bytes)', image_id, size)

    # -- the cache API -------------------------------------------------

    def is_cached(self, image_id):
        return self.layout.exists(image_id)

    def cached_images(self):
        return self.records.list()

    def nodes_of(self, image_id):
        return self.records.nodes_of(image_id)

    def size(self):
        return sum(stat.st_size for _id, stat in self.layout.entries())

    def delete(self, image_id):
        removed = self.layout.remove(image_id)
        self.records.remove(image_id)
        if removed:
            LOG.info('Image %s removed from the cache', image_id)
        return removed

    def delete_all(self):
        count = 0
        for image_id, _stat in self.layout.entries():
            count += self.layout.remove(image_id)
        self.records.remove_all()
        return count

    def queue(self, image_id):
        """Queue for prefetching; False if cached or queued already."""
        if self.layout.exists(image_id) or self.layout.exists(image_id,
                                                              'queue'):
            return False
        with open(self.layout.path(image_id, 'queue'), 'w'):
            pass
        return True

    def queued_images(self):
        """Queued image ids, oldest first."""
        entries = self.layout.entries('queue')
        entries.sort(key=lambda entry: (entry[1].st_mtime, entry[0]))
        return [image_id for image_id, _stat in entries]

    def dequeue(self, image_id):
        return self.layout.remove(image_id, 'queue')

    def delete_all_queued(self):
        count = 0
        for image_id, _stat in self.layout.entries('queue'):
            count += self.layout.remove(image_id, 'queue')
        return count

    # -- maintenance ---------------------------------------------------

    def prune(self, max_size=None):
        """Remove the least recently used images until the cache is no
        larger than max_size; (files, bytes) removed."""
        max_size = CONF.image_cache_max_size if max_size is None \
            else max_size
        sizes = {image_id: stat.st_size
                 for image_id, stat in self.layout.entries()}
        total = sum(sizes.values())
        files = pruned = 0
        if total <= max_size:
            return files, pruned
        order = self.records.least_recently_accessed()
        # Files without a record (a lost write) go first.
        order = [i for i in sizes if i not in set(order)] + order
        for image_id in order:
            if total <= max_size:
                break
            size = sizes.get(image_id)
            if size is None:
                self.records.remove(image_id)
                continue
            self.delete(image_id)
            total -= size
            pruned += size
            files += 1
        LOG.info('Pruned %d images (%d bytes) from the cache', files, pruned)
        return files, pruned

    def clean(self, stall_time=None, live_image_ids=None):
        """Remove invalid files, incomplete files nobody has written for
        stall_time seconds, and, given the ids of the images that are
        still active, the cached files of any other image."""
        stall_time = CONF.image_cache_stall_time if stall_time is None \
            else stall_time
        removed = 0
        for image_id, _stat in self.layout.entries('invalid'):
            removed += self.layout.remove(image_id, 'invalid')
        removed += len(self.layout.remove_abandoned(
            older_than=time.time() - stall_time))
        if live_image_ids is not None:
            for image_id, _stat in self.layout.entries():
                if image_id not in live_image_ids:
                    removed += self.delete(image_id)
        return removed

    def recover(self):
        """At start: drop what a killed process was writing."""
        for image_id in self.layout.remove_abandoned():
            LOG.info('Removed the partial cache file of image %s', image_id)


def get():
    """This node's cache, or None if the cache is not configured."""
    global _CACHE
    if not CONF.image_cache_dir:
        return None
    if _CACHE is None:
        with _CACHE_LOCK:
            if _CACHE is None:
                _CACHE = ImageCache(CONF.image_cache_dir,
                                    CONF.image_cache_driver, node_url(),
                                    CONF.image_cache_sqlite_db)
    return _CACHE


def reset():
    global _CACHE
    _CACHE = None
