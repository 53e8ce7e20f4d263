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

import collections
import hashlib
import os
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

COPY_PIECE = 64 * 1024 * 1024
# Bytes of a download the cache writer may lag behind the client.
TEE_BACKLOG = 64 * 1024 * 1024


class VerificationFailed(Exception):
    pass


def lower_priority():
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
            tag = getattr(self.cache.records, 'tag', None)
            if tag is not None:
                tag(self.path, self.checksum)
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

    def copy_in_background(self, source_path):
        def run():
            lower_priority()
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


class _Writer(threading.Thread):
    """Writes a tee's chunks into its fill, behind the client.

    The client's stream never waits for the cache disk: the writer takes
    at most TEE_BACKLOG bytes of chunks ahead of it, and when the disk
    falls further behind the tee stops offering (see Tee). The writer
    alone ends the fill, once every chunk offered is written.
    """

    def __init__(self, fill):
        super().__init__(daemon=True, name='glance-cache-tee')
        self.fill = fill
        self.chunks = collections.deque()
        self.pending = 0
        self.ending = None
        self.cond = threading.Condition()
        self.start()

    def offer(self, chunk):
        with self.cond:
            if self.pending + len(chunk) > TEE_BACKLOG:
                return False
            self.chunks.append(chunk)
            self.pending += len(chunk)
            self.cond.notify()
        return True

    def end(self, commit, reason=None):
        with self.cond:
            self.ending = (commit, reason)
            self.cond.notify()

    def _next(self):
        with self.cond:
            while not self.chunks and self.ending is None:
                self.cond.wait()
            if self.chunks:
                return self.chunks.popleft()
            return None

    def run(self):
        lower_priority()
        failed = None
        while True:
            chunk = self._next()
            if chunk is None:
                break
            if failed is None:
                try:
                    self.fill.write(chunk)
                except Exception as e:
                    failed = 'writing failed: %s' % e
            with self.cond:
                self.pending -= len(chunk)
        commit, reason = self.ending
        try:
            if commit and failed is None:
                self.fill.commit()
            else:
                self.fill.abort(failed or reason)
        except Exception:
            LOG.exception('Caching image %s failed', self.fill.image_id)


class Tee:
    """An app_iter that passes a store's chunks to the client and to a
    writer thread that fills the cache. The fill is committed when the
    stream ended whole and dropped if the client went away first; if the
    cache disk cannot keep up, the tee lets go of the fill and queues the
    image for the prefetcher instead, so the client is never slowed."""

    def __init__(self, chunks, fill):
        self.chunks = iter(chunks)
        self.fill = fill
        self.writer = _Writer(fill)
        self.behind = False

    def __iter__(self):
        return self

    def _end(self, commit, reason=None):
        writer, self.writer = self.writer, None
        if writer is not None:
            writer.end(commit, reason)

    def __next__(self):
        try:
            chunk = next(self.chunks)
        except StopIteration:
            self._end(True)
            raise
        except BaseException as e:
            self._end(False, 'the store stream failed: %s' % e)
            raise
        if self.writer is not None and not self.writer.offer(chunk):
            self._end(False, 'the cache disk fell behind the download')
            self.behind = True
            self.fill.cache.queue(self.fill.image_id)
        return chunk

    def close(self):
        self._end(False, 'the download ended before the last byte')
        if self.behind:
            self.fill.cache.prefetch_soon()
        close = getattr(self.chunks, 'close', None)
        if close is not None:
            close()
