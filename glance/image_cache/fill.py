"""Writing one image into the cache, and making it servable only when
it is whole and verified.

A Fill owns the image's locked incomplete file. Data goes in either
chunk by chunk (a tee beside a download, or the prefetcher) or by a
kernel copy from a local file (a file store). commit() then, in this
order: fsyncs the file, checks its size and its checksum against the
image record by reading it back, renames it into place, fsyncs the
directory, and records it. Anything else (a short stream, a client gone,
a bad checksum, a crash) leaves no file in place: a crash leaves only an
unlocked incomplete file, which the next start or the cleaner removes.

Verification reads the file back rather than hashing beside the tee so
that the first client's download costs one extra write per chunk and no
hashing; the read comes from the page cache, in a background thread at
the lowest CPU priority.
"""

import hashlib
import os
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

COPY_PIECE = 64 * 1024 * 1024


class VerificationFailed(Exception):
    pass


def _lower_priority():
    """Lowest CPU priority for this thread only (Linux nice is per
    thread), so a fill never competes with the requests."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def _digest(path, algorithm):
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def expected_digest(image):
    """(algorithm, hex digest) the data must match, or None."""
    if image.checksum:
        return 'md5', image.checksum
    if image.os_hash_algo and image.os_hash_value:
        return image.os_hash_algo, image.os_hash_value
    return None


class Fill:
    def __init__(self, cache, image, fd):
        self.cache = cache
        self.layout = cache.layout
        self.image_id = image.id
        self.size = image.size
        self.digest = expected_digest(image)
        self.checksum = image.checksum
        self.fd = fd
        self.written = 0
        self.done = False

    @property
    def path(self):
        return self.layout.path(self.image_id, 'incomplete')

    # -- filling -------------------------------------------------------

    def write(self, chunk):
        view = memoryview(chunk)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
            self.written += n

    def copy_file(self, source_path):
        """Kernel copy of a local file into the incomplete file."""
        with open(source_path, 'rb') as source:
            src = source.fileno()
            while True:
                try:
                    n = os.copy_file_range(src, self.fd, COPY_PIECE)
                except OSError:
                    n = os.sendfile(self.fd, src, None, COPY_PIECE)
                if n == 0:
                    return
                self.written += n

    # -- ending --------------------------------------------------------

    def abort(self, reason):
        if self.done:
            return
        self.done = True
        LOG.info('Image %s not cached: %s', self.image_id, reason)
        try:
            self.layout.remove(self.image_id, 'incomplete')
        finally:
            os.close(self.fd)

    def _verify(self):
        if self.size is not None and self.written != self.size:
            raise VerificationFailed('%d bytes arrived, the image has %d'
                                     % (self.written, self.size))
        if self.digest is not None:
            algorithm, value = self.digest
            actual = _digest(self.path, algorithm)
            if actual != value:
                raise VerificationFailed('%s %s does not match the image\'s '
                                         '%s' % (algorithm, actual, value))

    def commit(self):
        """Verify and put in place; False if the data was not right."""
        if self.done:
            return False
        self.done = True
        try:
            os.fsync(self.fd)
            self._verify()
            os.rename(self.path, self.layout.path(self.image_id))
            self.layout.sync_directory()
        except VerificationFailed as e:
            LOG.error('Image %s not cached: %s', self.image_id, e)
            os.replace(self.path, self.layout.path(self.image_id,
                                                   'invalid'))
            os.close(self.fd)
            return False
        except BaseException:
            self.layout.remove(self.image_id, 'incomplete')
            os.close(self.fd)
            raise
        # The rename is done: releasing the lock now is safe.
        os.close(self.fd)
        self.cache.committed(self.image_id, self.written, self.checksum)
        return True

    def commit_in_background(self):
        def run():
            _lower_priority()
            try:
                self.commit()
            except Exception:
                LOG.exception('Caching image %s failed', self.image_id)
        threading.Thread(target=run, daemon=True,
                         name='glance-cache-commit').start()

    def copy_in_background(self, source_path):
        def run():
            _lower_priority()
            try:
                self.copy_file(source_path)
            except Exception as e:
                self.abort('copying %s failed: %s' % (source_path, e))
                return
            try:
                self.commit()
            except Exception:
                LOG.exception('Caching image %s failed', self.image_id)
        threading.Thread(target=run, daemon=True,
                         name='glance-cache-copy').start()


class Tee:
    """An app_iter that passes a store's chunks to the client and writes
    each into the fill; the fill is committed when the stream ended
    whole, and dropped if the client went away first."""

    def __init__(self, chunks, fill):
        self.chunks = iter(chunks)
        self.fill = fill
        self.ended = False

    def __iter__(self):
        return self

    def __next__(self):
        try:
            chunk = next(self.chunks)
        except StopIteration:
            if not self.ended:
                self.ended = True
                self.fill.commit_in_background()
            raise
        except BaseException as e:
            self.fill.abort('the store stream failed: %s' % e)
            raise
        try:
            self.fill.write(chunk)
        except Exception as e:
            # A full cache disk must not fail the client's download.
            self.fill.abort('writing failed: %s' % e)
            self.fill = _NoFill()
        return chunk

    def close(self):
        if not self.ended:
            self.ended = True
            self.fill.abort('the download ended before the last byte')
        close = getattr(self.chunks, 'close', None)
        if close is not None:
            close()


class _NoFill:
    done = True

    def write(self, chunk):
        pass

    def commit_in_background(self):
        pass

    def abort(self, reason):
        pass
