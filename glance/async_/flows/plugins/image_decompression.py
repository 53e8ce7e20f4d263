"""image_decompression: unpack compressed imports before they are stored.

The staged data is recognised by its magic number: gzip, zip (an archive
of exactly one file), bzip2, xz and zstd (with the zstandard package).
It is decompressed as a stream into a new file, which replaces the staged
one; the output may not grow beyond what the owner may store
(image_size_cap, user_storage_quota), so a small bomb cannot fill the
disk. Images whose container_format is "compressed" are left as they
are: that container format says the data is meant to stay compressed.
"""

import bz2
import gzip
import lzma
import os
import zipfile

from oslo_config import cfg
from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

from glance.common import exception
from glance.domain import quota

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

CHUNK = 4 * 1024 * 1024
MAGIC = (
    ('gzip', b'\x1f\x8b'),
    ('zip', b'PK\x03\x04'),
    ('bzip2', b'BZh'),
    ('xz', b'\xfd7zXZ\x00'),
    ('zstd', b'\x28\xb5\x2f\xfd'),
)


class DecompressionError(exception.GlanceError):
    code = 400
    title = 'Bad Request'


def detect(path):
    with open(path, 'rb') as f:
        head = f.read(8)
    for name, magic in MAGIC:
        if head.startswith(magic):
            return name
    return None


def _zip_member(path):
    archive = zipfile.ZipFile(path)
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) != 1:
        archive.close()
        raise DecompressionError('A zip archive to import must hold exactly '
                                 'one file; this one holds %d.'
                                 % len(members))
    return archive, members[0]


def open_decompressed(path, kind):
    """A binary file object reading the decompressed data."""
    if kind == 'gzip':
        return gzip.open(path, 'rb')
    if kind == 'bzip2':
        return bz2.open(path, 'rb')
    if kind == 'xz':
        return lzma.open(path, 'rb')
    if kind == 'zstd':
        try:
            import zstandard
        except ImportError:
            raise DecompressionError('zstd data cannot be decompressed: the '
                                     'zstandard package is not installed.')
        source = open(path, 'rb')
        return zstandard.ZstdDecompressor().stream_reader(
            source, read_across_frames=True, closefd=True)
    if kind == 'zip':
        archive, member = _zip_member(path)
        return archive.open(member)
    raise DecompressionError('Unknown compression %s.' % kind)


class _Decompress(task.Task):
    def __init__(self, task_id, image_id, image_repo, staging_path,
                 progress):
        super().__init__(name='DecompressImage-%s' % task_id)
        self.image_id = image_id
        self.image_repo = image_repo
        self.path = staging_path
        self.progress = progress

    def execute(self):
        image = self.image_repo.get(self.image_id)
        if image.container_format == 'compressed':
            LOG.info('Image %s has container_format compressed; leaving '
                     'its data compressed', self.image_id)
            return
        kind = detect(self.path)
        if kind is None:
            return
        limit, message = quota.storage_limit(image.owner)
        output = self.path + '.decompressed'
        report = self.progress('Decompressed (%s)' % kind) \
            if self.progress else None
        total = 0
        try:
            with open_decompressed(self.path, kind) as source, \
                    open(output, 'wb') as target:
                while True:
                    chunk = source.read(CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > limit:
                        raise exception.LimitExceeded(
                            'The decompressed image is too large: %s'
                            % message)
                    target.write(chunk)
                    if report is not None:
                        report(total)
        except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile,
                ValueError) as e:
            _remove(output)
            raise DecompressionError('The %s data cannot be decompressed: '
                                     '%s' % (kind, e))
        except Exception as e:
            _remove(output)
            if type(e).__module__.startswith('zstd'):
                raise DecompressionError('The zstd data cannot be '
                                         'decompressed: %s' % e)
            raise
        except BaseException:
            _remove(output)
            raise
        os.replace(output, self.path)
        LOG.info('Decompressed the %s data of image %s (%d bytes)', kind,
                 self.image_id, total)

    def revert(self, *args, **kwargs):
        _remove(self.path + '.decompressed')


def _remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def get_flow(**kwargs):
    return linear_flow.Flow('image_decompression').add(_Decompress(
        kwargs.get('task_id'), kwargs.get('image_id'),
        kwargs.get('image_repo'), kwargs.get('staging_path'),
        kwargs.get('progress')))
