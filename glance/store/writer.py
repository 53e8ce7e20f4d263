"""Writing image data into a store, with its hashes, in one pass.

For file stores the data is written here rather than by glance_store's
file driver, because that driver computes MD5 and the multihash one after
the other in the writing thread, which caps an upload at about a third of
what the disk and the network can do. Here each chunk is hashed by two
helper threads (hashlib releases the GIL) while the request thread
receives the next chunk and writes this one. The result is the same file,
at the same path, with the same location URL, that glance_store's file
driver would have produced, and glance_store reads and deletes it as usual.
Other drivers (swift, s3, rbd, ...) are written through glance_store.
"""

import contextlib
import ctypes
import dataclasses
import errno
import hashlib
import os
import queue
import threading
import uuid

from glance_store import exceptions as store_exc
from glance_store import multi_backend
import glance_store
from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import streams
from glance.store import backends

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Chunks a hash thread may lag behind the writer: bounds memory to
# BACKLOG * data_chunk_size per hash while letting the threads even out.
# A request body's chunks live in a ring of reused buffers; a hash thread
# holds at most BACKLOG queued chunks plus the one it hashes, and the
# writer fills the next, so the ring must be two deeper than BACKLOG.
BACKLOG = streams.RING_DEPTH - 2


@dataclasses.dataclass
class Written:
    url: str
    size: int
    checksum: str
    os_hash_algo: str
    os_hash_value: str
    metadata: dict
    store_id: str = None


class _HashThread(threading.Thread):
    def __init__(self, hasher):
        super().__init__(daemon=True, name='glance-hash')
        self.hasher = hasher
        self.chunks = queue.Queue(maxsize=BACKLOG)
        self.error = None
        self.start()

    def run(self):
        update = self.hasher.update
        while True:
            chunk = self.chunks.get()
            if chunk is None:
                return
            try:
                update(chunk)
            except Exception as e:  # pragma: no cover - hashlib does not
                self.error = e


class Hashes:
    """MD5, the multihash and any extra algorithms of a stream, each
    computed in its own thread beside the I/O (hashlib releases the GIL
    while it hashes)."""

    def __init__(self, algorithm=None, extra_algorithms=()):
        self.algorithm = algorithm or CONF.hashing_algorithm
        self.names = list(dict.fromkeys(
            ['md5', self.algorithm] + list(extra_algorithms)))
        self._threads = [
            _HashThread(hashlib.md5(usedforsecurity=False) if name == 'md5'
                        else hashlib.new(name))
            for name in self.names]

    def update(self, chunk):
        for thread in self._threads:
            thread.chunks.put(chunk)

    def close(self):
        for thread in self._threads:
            if thread.is_alive():
                thread.chunks.put(None)
                thread.join()

    def digests(self):
        """{algorithm: hex digest} of everything seen."""
        self.close()
        for thread in self._threads:
            if thread.error is not None:
                raise thread.error
        return {name: thread.hasher.hexdigest()
                for name, thread in zip(self.names, self._threads)}

    def hexdigests(self):
        """(MD5, multihash) hex digests."""
        digests = self.digests()
        return digests['md5'], digests[self.algorithm]


def _file_datadir(driver, size):
    # glance_store's choice among filesystem_store_datadirs by priority and
    # free space, so the file lands where its own driver would put it.
    finder = getattr(driver, '_find_best_datadir', None)
    if finder is not None:
        return finder(size or 0)
    return driver.datadir


@contextlib.contextmanager
def partial_file(final, hashes, full_message):
    """A temporary name beside final, renamed to final when the block ends.

    On any failure the partial file is removed and the hash threads are
    stopped; a full disk becomes 413 with full_message. Uploads and
    staging both write through here, so a file under its final name is
    always whole.
    """
    partial = '%s.partial-%s' % (final, uuid.uuid4().hex[:8])
    try:
        yield partial
        os.replace(partial, final)
    except BaseException as e:
        hashes.close()
        unlink(partial)
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC,
                                                  errno.EFBIG):
            raise exception.LimitExceeded(full_message) from e
        raise


# Space is reserved this far ahead of the data: on ext4 and XFS, writing
# into a preallocated range costs a third of the CPU of growing the file
# block by block (delayed allocation), and frees the writing thread for
# the next chunk sooner.
PREALLOCATE_STEP = 64 * 1024 * 1024

_libc = None


def _fallocate(fd, offset, length):
    """fallocate(2), mode 0; False when the file system cannot do it.

    os.posix_fallocate would fall back to writing zeros (glibc) where the
    file system lacks fallocate; this never does.
    """
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
            _libc.fallocate.argtypes = (ctypes.c_int, ctypes.c_int,
                                        ctypes.c_longlong,
                                        ctypes.c_longlong)
        except (OSError, AttributeError):
            _libc = False
    if not _libc:
        return False
    if _libc.fallocate(fd, 0, offset, length) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        raise OSError(error, os.strerror(error))
    return False


class RawFile:
    """A file written with raw writes and space reserved ahead."""

    def __init__(self, file_path, expected_size=None):
        self.fd = os.open(file_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                          0o644)
        self.size = 0
        self.reserved = 0
        self.preallocate = True
        if expected_size:
            self._reserve(expected_size)

    def _reserve(self, upto):
        if self.preallocate and upto > self.reserved:
            if _fallocate(self.fd, self.reserved, upto - self.reserved):
                self.reserved = upto
            else:
                self.preallocate = False

    def write(self, chunk):
        end = self.size + len(chunk)
        if end > self.reserved:
            self._reserve(end + PREALLOCATE_STEP)
        view = memoryview(chunk)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.size = end

    def close(self):
        if self.fd is None:
            return
        try:
            if self.reserved > self.size:
                os.ftruncate(self.fd, self.size)
        finally:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def consume(chunks, f, hashes, checker=None, progress=None):
    """Hash, inspect and write (f may be None) every chunk; the size.

    On failure the hash threads are stopped.
    """
    size = 0
    try:
        for chunk in chunks:
            hashes.update(chunk)
            if checker is not None:
                checker.feed(chunk)
            if f is not None:
                f.write(chunk)
            size += len(chunk)
            if progress is not None:
                progress(size)
    except BaseException:
        hashes.close()
        raise
    return size


def _write_file(driver, image_id, chunks, size, store_id):
    final = os.path.join(_file_datadir(driver, size), str(image_id))
    hashes = Hashes()
    with partial_file(final, hashes, 'The store is full.') as partial:
        with RawFile(partial, size) as f:
            written = consume(chunks, f, hashes)
        checksum, multihash = hashes.hexdigests()
    metadata = {'store': store_id} if store_id else {}
    return Written('file://' + final, written, checksum,
                   hashes.algorithm, multihash, metadata, store_id)


# Reasons a hard link cannot be made where a copy still can.
NO_LINK_ERRNOS = (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP,
                  errno.EACCES, errno.ENOSYS)


def link_file(image_id, source_path, store_id, size, checksum,
              os_hash_algo, os_hash_value):
    """Put a local file, already hashed, into a file store by hard link.

    The file lands at the path glance_store's file driver would use.
    None when the file system cannot link it there (the caller copies).
    """
    driver = backends.get_store(store_id)
    dest = os.path.join(_file_datadir(driver, size), str(image_id))
    if os.path.exists(dest):
        raise exception.Conflict('Image data already exists in store %s.'
                                 % (store_id or 'file'))
    try:
        os.link(source_path, dest)
    except OSError as e:
        if e.errno in NO_LINK_ERRNOS:
            return None
        raise
    metadata = {'store': store_id} if store_id else {}
    return Written('file://' + dest, size, checksum, os_hash_algo,
                   os_hash_value, metadata, store_id)


def unlink(path):
    """Remove a file; already gone is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class _ChunkReader:
    """A read() view of a chunk iterator, for glance_store drivers.

    Drivers read in pieces much smaller than our chunks (the file driver
    64 KiB at a time), so each read takes a slice of the current chunk at
    an offset rather than re-slicing what is left of it.
    """

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._chunk = b''
        self._offset = 0

    def read(self, size=-1):
        pieces = []
        wanted = size
        while size < 0 or wanted > 0:
            if self._offset >= len(self._chunk):
                try:
                    self._chunk, self._offset = next(self._chunks), 0
                except StopIteration:
                    break
                continue
            end = len(self._chunk)
            if size >= 0:
                end = min(end, self._offset + wanted)
                wanted -= end - self._offset
            # A copy: drivers may keep what they read, and request
            # chunks are views of buffers that are reused.
            pieces.append(bytes(self._chunk[self._offset:end]))
            self._offset = end
        if len(pieces) == 1:
            return pieces[0]
        return b''.join(pieces)


def _write_driver(image_id, chunks, size, store_id, context):
    reader = _ChunkReader(chunks)
    algorithm = CONF.hashing_algorithm
    try:
        if store_id:
            url, written, checksum, multihash, metadata = \
                multi_backend.add_with_multihash(
                    CONF, image_id, reader, size or 0, store_id, algorithm,
                    context=context)
        else:
            url, written, checksum, multihash, metadata = \
                glance_store.add_to_backend_with_multihash(
                    CONF, image_id, reader, size or 0, algorithm,
                    scheme=CONF.glance_store.default_store, context=context)
    except store_exc.Duplicate:
        raise exception.Conflict('Image data already exists in the store.')
    except store_exc.StorageFull:
        raise exception.LimitExceeded('The store is full.')
    except store_exc.StorageWriteDenied:
        raise exception.ServiceUnavailable('The store refused the write.')
    if store_id:
        metadata = dict(metadata or {}, store=store_id)
    return Written(url, written, checksum, algorithm, multihash,
                   metadata or {}, store_id)


def write(image_id, chunks, size=None, store_id=None, context=None):
    """Store chunks as the data of image_id; return a Written."""
    if backends.store_type(store_id) == 'file':
        driver = backends.get_store(store_id)
        return _write_file(driver, image_id, chunks, size, store_id)
    return _write_driver(image_id, chunks, size, store_id, context)
