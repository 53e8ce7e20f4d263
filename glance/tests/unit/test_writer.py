"""The pieces of the data writer that need no store."""

import errno
import hashlib
import io
import os
import threading
import types

import pytest

from glance.common import exception
from glance.common import streams
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


class _SlowHash:
    """A hash that sometimes falls behind the writer, as a loaded hash
    thread does."""

    def __init__(self, name):
        self._hash = hashlib.new(name)
        self._calls = 0

    def update(self, chunk):
        self._calls += 1
        if self._calls % 3 == 0:
            threading.Event().wait(0.002)
        self._hash.update(chunk)

    def hexdigest(self):
        return self._hash.hexdigest()


def test_ring_buffers_are_not_reused_while_a_hash_still_needs_them(
        conf, tmp_path, monkeypatch):
    # Chunks are views of RING_DEPTH reused buffers: the hash threads'
    # backlog must never reach a buffer the reader is filling again.
    data = os.urandom(200 * 1024 + 7)
    source = open_bytes(data)
    slow = types.SimpleNamespace(md5=lambda **kw: _SlowHash('md5'),
                                 new=_SlowHash)
    monkeypatch.setattr(writer, 'hashlib', slow)
    hashes = writer.Hashes()
    target = tmp_path / 'out'
    with writer.RawFile(str(target)) as f:
        size = writer.consume(streams.ring_chunks(source.readinto, 1024),
                              f, hashes)
    assert size == len(data)
    assert target.read_bytes() == data
    md5, multihash = hashes.hexdigests()
    assert md5 == hashlib.md5(data).hexdigest()
    assert multihash == hashlib.sha512(data).hexdigest()


def open_bytes(data):
    return io.BytesIO(data)


@pytest.mark.parametrize('piece', [None, 100])
def test_ring_chunks_gather_and_pieces(piece):
    data = os.urandom(10000)
    source = open_bytes(data)
    calls = []

    def readinto(view):
        calls.append(len(view))
        return source.readinto(view)

    chunks = [bytes(c) for c in streams.ring_chunks(
        readinto, 4096, gather_seconds=60 if piece else None,
        piece_size=piece)]
    assert b''.join(chunks) == data
    assert [len(c) for c in chunks] == [4096, 4096, 1808]
    assert max(calls) == (piece or 4096)
