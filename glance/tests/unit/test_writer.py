"""The pieces of the data writer that need no store."""

import errno
import hashlib
import os
import threading

import pytest

from glance.common import exception
from glance.store import writer


def _chunks(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize('step', [1, 100, 4096, 65536, 10 ** 7, -1])
def test_chunk_reader_returns_the_stream_exactly(step):
    data = os.urandom(300007)
    reader = writer._ChunkReader(iter(_chunks(data, 28672)))
    pieces = []
    while True:
        piece = reader.read(step)
        if not piece:
            break
        if step > 0:
            assert len(piece) <= step
        pieces.append(piece)
    assert b''.join(pieces) == data
    assert reader.read(10) == b''


def test_hashes_match_hashlib(conf):
    data = os.urandom(100003)
    hashes = writer.Hashes(extra_algorithms=['sha256'])
    for chunk in _chunks(data, 8192):
        hashes.update(chunk)
    digests = hashes.digests()
    assert digests['md5'] == hashlib.md5(data).hexdigest()
    assert digests['sha256'] == hashlib.sha256(data).hexdigest()
    assert digests[hashes.algorithm] == hashlib.new(
        hashes.algorithm, data).hexdigest()


def _hash_threads():
    return [t for t in threading.enumerate() if t.name == 'glance-hash']


def test_partial_file_renames_when_done(tmp_path, conf):
    final = str(tmp_path / 'image')
    hashes = writer.Hashes()
    with writer.partial_file(final, hashes, 'full') as partial:
        with open(partial, 'wb') as f:
            f.write(b'data')
        hashes.hexdigests()
    assert open(final, 'rb').read() == b'data'
    assert os.listdir(tmp_path) == ['image']


def test_full_disk_is_413_and_leaves_nothing(tmp_path, conf):
    before = len(_hash_threads())
    final = str(tmp_path / 'image')
    hashes = writer.Hashes()
    with pytest.raises(exception.LimitExceeded) as info:
        with writer.partial_file(final, hashes, 'The store is full.') \
                as partial:
            with open(partial, 'wb') as f:
                f.write(b'some')
            raise OSError(errno.ENOSPC, 'No space left on device')
    assert info.value.message == 'The store is full.'
    assert os.listdir(tmp_path) == []
    # The hash threads of the failed write are stopped, not leaked.
    assert len(_hash_threads()) == before


def test_other_failures_pass_through_and_clean_up(tmp_path, conf):
    final = str(tmp_path / 'image')
    with pytest.raises(exception.BadRequest):
        with writer.partial_file(final, writer.Hashes(), 'full') as partial:
            open(partial, 'wb').close()
            raise exception.BadRequest('size mismatch')
    assert os.listdir(tmp_path) == []
