"""The cache directory: where each image file lives in each state.

    <image_cache_dir>/<image_id>              complete, verified, servable
    <image_cache_dir>/incomplete/<image_id>   being written (locked)
    <image_cache_dir>/invalid/<image_id>      failed verification
    <image_cache_dir>/queue/<image_id>        empty: queued for prefetch

Only names that are image ids (UUIDs) are ever built or listed, so no
request can name a path outside the directory, and the sqlite driver's
database in the same directory is never taken for an image.

A file in "incomplete" is held with an exclusive flock by the one
process writing it; the kernel drops the lock when that process dies,
so a file there that can be locked is a leftover nobody will finish.
"""

import errno
import fcntl
import os
import uuid

AREAS = ('incomplete', 'invalid', 'queue')


def is_image_id(name):
    try:
        return str(uuid.UUID(name)) == name.lower() and len(name) == 36
    except (ValueError, AttributeError, TypeError):
        return False


class Layout:
    def __init__(self, base_dir):
        self.base_dir = os.path.abspath(base_dir)
        for area in AREAS:
            os.makedirs(os.path.join(self.base_dir, area), exist_ok=True)

    def path(self, image_id, area=None):
        if not is_image_id(image_id):
            raise ValueError('Not an image id: %r' % (image_id,))
        if area is None:
            return os.path.join(self.base_dir, image_id)
        return os.path.join(self.base_dir, area, image_id)

    def directory(self, area=None):
        return self.base_dir if area is None else os.path.join(
            self.base_dir, area)

    def entries(self, area=None):
        """(image_id, os.stat_result) of each image file in an area."""
        directory = self.directory(area)
        found = []
        with os.scandir(directory) as scan:
            for entry in scan:
                if not is_image_id(entry.name):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):
                        found.append((entry.name, entry.stat()))
                except FileNotFoundError:
                    continue
        return found

    def exists(self, image_id, area=None):
        return os.path.isfile(self.path(image_id, area))

    def sync_directory(self, area=None):
        """Make a rename or unlink in the directory durable."""
        fd = os.open(self.directory(area), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, image_id, area=None):
        try:
            os.unlink(self.path(image_id, area))
            return True
        except FileNotFoundError:
            return False

    def lock_incomplete(self, image_id):
        """An fd of the image's incomplete file, created if need be and
        exclusively locked; None if another process or thread is writing
        it."""
        path = self.path(image_id, 'incomplete')
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES):
                return None
            raise
        # Between our open and our lock, its writer may have finished and
        # renamed (or removed) the file: then ours is not the path's file.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        if current is None or current.st_ino != os.fstat(fd).st_ino:
            os.close(fd)
            return None
        return fd

    def remove_abandoned(self, older_than=None):
        """Remove the incomplete files nobody holds (a writer that died),
        only those last written before older_than if it is given; return
        their image ids."""
        removed = []
        for image_id, stat in self.entries('incomplete'):
            if older_than is not None and stat.st_mtime >= older_than:
                continue
            fd = self.lock_incomplete(image_id)
            if fd is None:
                continue
            try:
                os.unlink(self.path(image_id, 'incomplete'))
                removed.append(image_id)
            finally:
                os.close(fd)
        return removed
