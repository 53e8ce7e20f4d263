"""Where the cache keeps its records of the images it holds.

Every driver keeps the image files the same way (see layout); they
differ only in where the size, hits and access times are written:

centralized_db  the service database, one node_reference row per node
sqlite          a SQLite file in the cache directory, same tables
xattr           extended attributes of each cached file

All three offer the methods of glance.db.cache.Records.
"""

import fcntl
import os
import time

from oslo_log import log as logging

from glance.db import cache as db_cache

LOG = logging.getLogger(__name__)

_HITS = 'user.glance.hits'
_ACCESSED = 'user.glance.last_accessed'
_CHECKSUM = 'user.glance.checksum'


class XattrRecords:
    """Records as extended attributes of the cached files themselves."""

    def __init__(self, layout, node_url):
        self.layout = layout
        self.node_url = node_url
        probe = os.path.join(layout.base_dir, '.xattr-probe')
        with open(probe, 'w'):
            pass
        try:
            os.setxattr(probe, _HITS, b'0')
        finally:
            os.unlink(probe)

    def _get(self, path, name, default):
        try:
            return os.getxattr(path, name).decode()
        except OSError:
            return default

    def tag(self, path, checksum):
        """Written on the file before it is renamed into place, so that
        nobody sees the file without its records."""
        os.setxattr(path, _HITS, b'0')
        os.setxattr(path, _ACCESSED, repr(time.time()).encode())
        if checksum:
            os.setxattr(path, _CHECKSUM, checksum.encode())

    def add(self, image_id, size, checksum):
        pass

    def hit(self, image_id):
        path = self.layout.path(image_id)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        try:
            # Counted under a lock: workers serve the same file at once.
            fcntl.flock(fd, fcntl.LOCK_EX)
            hits = int(self._get(path, _HITS, '0')) + 1
            os.setxattr(fd, _HITS, str(hits).encode())
            os.setxattr(fd, _ACCESSED, repr(time.time()).encode())
        except (OSError, ValueError):
            pass
        finally:
            os.close(fd)

    def remove(self, image_id):
        pass

    def remove_all(self):
        pass

    def _view(self, image_id, stat):
        path = self.layout.path(image_id)
        return {'image_id': image_id,
                'hits': int(self._get(path, _HITS, '0')),
                'last_accessed': float(self._get(path, _ACCESSED,
                                                 stat.st_atime)),
                'last_modified': stat.st_mtime,
                'size': stat.st_size}

    def get(self, image_id):
        try:
            stat = os.stat(self.layout.path(image_id))
        except FileNotFoundError:
            return None
        return dict(self._view(image_id, stat), checksum=self._get(
            self.layout.path(image_id), _CHECKSUM, None))

    def list(self):
        return sorted((self._view(image_id, stat)
                       for image_id, stat in self.layout.entries()),
                      key=lambda entry: entry['image_id'])

    def least_recently_accessed(self):
        entries = self.list()
        entries.sort(key=lambda entry: entry['last_accessed'])
        return [entry['image_id'] for entry in entries]

    def nodes_of(self, image_id):
        return [self.node_url] if self.layout.exists(image_id) else []


def load(name, layout, node_url, sqlite_db):
    """The records of the named driver."""
    if name == 'xattr':
        try:
            return XattrRecords(layout, node_url)
        except OSError as e:
            LOG.warning('The image cache directory %s does not support '
                        'extended attributes (%s); using the sqlite '
                        'driver instead.', layout.base_dir, e)
            name = 'sqlite'
    if name == 'sqlite':
        return db_cache.local_records(
            os.path.join(layout.base_dir, sqlite_db), node_url)
    return db_cache.Records(node_url)
