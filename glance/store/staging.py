"""The staging area of imports: where data waits between stage and store.

It is a directory of a glance_store file store: the reserved
os_glance_staging_store in multi-store mode, node_staging_uri (default
file://$state_path/staging) in single-store mode. The staged data of an
image is the file named by the image id, as the reference keeps it, so
plugins find it where they expect it.

Data is hashed (MD5, the multihash, and any algorithm a caller asks for)
and shown to the format inspector while it is written, each hash in a
thread of its own. What was learnt is kept beside the data in
``<image id>.stageinfo`` together with the file's identity (device,
inode, size, modification time): as long as nobody changed the file,
the import trusts those figures and need not read the data again; a
plugin that rewrites the file changes its identity, and the data is then
scanned once more.
"""

import dataclasses
import glob
import json
import os
import socket
import urllib.parse
import uuid

from oslo_config import cfg
from oslo_log import log as logging

from glance.common import exception
from glance.common import format_check
from glance.common import streams
from glance.store import backends
from glance.store import writer

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

INFO_SUFFIX = '.stageinfo'
READ_CHUNK = 4 * 1024 * 1024


def staging_dir():
    """The staging directory of this node (created on first use)."""
    if backends.multistore():
        path = CONF[backends.STAGING_STORE].filesystem_store_datadir
    else:
        uri = CONF.node_staging_uri
        if uri:
            parsed = urllib.parse.urlparse(uri)
            if parsed.scheme != 'file':
                raise RuntimeError('node_staging_uri must be a file:// URI, '
                                   'not %r.' % uri)
            path = urllib.parse.unquote(parsed.path)
        else:
            path = os.path.join(CONF.state_path, 'staging')
    os.makedirs(path, exist_ok=True)
    return path


def path(image_id):
    return os.path.join(staging_dir(), str(image_id))


def uri(image_id):
    return 'file://' + path(image_id)


def _info_path(image_id):
    return path(image_id) + INFO_SUFFIX


def node_id():
    return '%s:%s' % (socket.gethostname(), CONF.bind_port)


def self_url():
    """How other nodes reach this one, or None if nobody said."""
    return CONF.worker_self_reference_url or CONF.public_endpoint or None


def stage_host():
    """What os_glance_stage_host records for data staged here."""
    return self_url() or node_id()


@dataclasses.dataclass
class StageInfo:
    size: int
    checksum: str
    os_hash_algo: str
    os_hash_value: str
    extra_hashes: dict
    disk_format: str = None
    detected_format: str = None
    virtual_size: int = None
    format_error: str = None
    format_error_kind: str = None
    identity: list = None

    def hash_of(self, algorithm):
        if algorithm == 'md5':
            return self.checksum
        if algorithm == self.os_hash_algo:
            return self.os_hash_value
        return self.extra_hashes.get(algorithm)

    def check_format(self):
        """Raise what the inspector found wrong, if anything."""
        if self.format_error_kind == 'unsafe':
            raise format_check.UnsafeImage(self.format_error)
        if self.format_error_kind:
            raise format_check.FormatMismatch(self.format_error)


def _identity(file_path):
    st = os.stat(file_path)
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def _inspect(checker):
    """(detected, virtual size, error message, error kind)."""
    try:
        detected, virtual_size = checker.finish()
        return detected, virtual_size, None, None
    except format_check.UnsafeImage as e:
        return None, None, e.message, 'unsafe'
    except format_check.FormatMismatch as e:
        return None, None, e.message, 'mismatch'


def _info(size, hashes, checker, disk_format, identity):
    digests = hashes.digests()
    detected, virtual_size, error, kind = _inspect(checker)
    algorithm = hashes.algorithm
    return StageInfo(
        size=size, checksum=digests['md5'], os_hash_algo=algorithm,
        os_hash_value=digests[algorithm],
        extra_hashes={k: v for k, v in digests.items()
                      if k not in ('md5', algorithm)},
        disk_format=disk_format, detected_format=detected,
        virtual_size=virtual_size, format_error=error,
        format_error_kind=kind, identity=identity)


def _checker(disk_format):
    return format_check.FormatChecker(
        disk_format, CONF.image_format.require_image_format_match)


def write(image_id, chunks, disk_format=None, extra_algorithms=(),
          progress=None, expected_size=None):
    """Stage chunks as the data of image_id; return its StageInfo.

    The data is written under a temporary name and renamed when complete,
    so a staged file always holds whole data.
    """
    final = path(image_id)
    hashes = writer.Hashes(extra_algorithms=extra_algorithms)
    checker = _checker(disk_format)
    with writer.partial_file(final, hashes,
                             'The staging area is full.') as partial:
        with writer.RawFile(partial, expected_size) as f:
            size = writer.consume(chunks, f, hashes, checker, progress)
        info = _info(size, hashes, checker, disk_format, None)
    info.identity = _identity(final)
    save_info(image_id, info)
    return info


def read_chunks(file_path, chunk_size=READ_CHUNK):
    """The file's data in chunks: views of a ring of reused buffers (see
    streams.ring_chunks), so reading allocates nothing per chunk."""
    with open(file_path, 'rb', buffering=0) as f:
        yield from streams.ring_chunks(f.readinto, chunk_size)


def scan(image_id, disk_format, extra_algorithms=(), progress=None):
    """Hash and inspect the staged data again (after a plugin changed it)."""
    file_path = path(image_id)
    if not os.path.exists(file_path):
        raise exception.NotFound('No staged data found for image %s.'
                                 % image_id)
    before = _identity(file_path)
    hashes = writer.Hashes(extra_algorithms=extra_algorithms)
    checker = _checker(disk_format)
    size = writer.consume(read_chunks(file_path), None, hashes, checker,
                          progress)
    info = _info(size, hashes, checker, disk_format, before)
    if _identity(file_path) == before:
        save_info(image_id, info)
    return info


def save_info(image_id, info):
    tmp = '%s.%s' % (_info_path(image_id), uuid.uuid4().hex[:8])
    with open(tmp, 'w') as f:
        json.dump(dataclasses.asdict(info), f)
    os.replace(tmp, _info_path(image_id))


def load_info(image_id):
    """The StageInfo of the staged data, if it still describes the file."""
    try:
        with open(_info_path(image_id)) as f:
            info = StageInfo(**json.load(f))
        if info.identity != _identity(path(image_id)):
            return None
    except (OSError, ValueError, TypeError):
        return None
    return info


def exists(image_id):
    return os.path.exists(path(image_id))


def size(image_id):
    return os.stat(path(image_id)).st_size


def discard(image_id):
    """Remove the staged data of an image, and anything half written."""
    try:
        base = path(image_id)
    except OSError:
        return
    writer.unlink(base)
    writer.unlink(base + INFO_SUFFIX)
    for leftover in glob.glob(glob.escape(base) + '.*'):
        writer.unlink(leftover)


def hash_file(file_path, algorithms, progress=None):
    """{algorithm: hex digest} of a file, hashed in parallel threads."""
    extra = [a for a in algorithms
             if a not in ('md5', CONF.hashing_algorithm)]
    hashes = writer.Hashes(extra_algorithms=extra)
    writer.consume(read_chunks(file_path), None, hashes, progress=progress)
    return hashes.digests()
