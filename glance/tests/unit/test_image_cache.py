"""The image cache's pieces: the directory layout and its locks, a fill
(verified, put in place only when whole), the tee beside a download, the
records of the sqlite and xattr drivers, queue, prune and clean."""

import hashlib
import os
import threading
import time
import types
import uuid

import pytest

from glance import image_cache
from glance.image_cache import fill as fill_lib
from glance.image_cache import layout as layout_lib


def image_of(data, checksum=None, **extra):
    values = dict(id=str(uuid.uuid4()), size=len(data),
                  checksum=checksum or hashlib.md5(data).hexdigest(),
                  os_hash_algo=None, os_hash_value=None, status='active')
    values.update(extra)
    return types.SimpleNamespace(**values)


@pytest.fixture(params=['sqlite', 'xattr'])
def cache(request, tmp_path):
    cache = image_cache.ImageCache(str(tmp_path / 'cache'), request.param,
                                   'http://node-a')
    if request.param == 'xattr' and \
            not isinstance(cache.records, image_cache.drivers.XattrRecords):
        pytest.skip('no user xattrs on this file system')
    return cache


def fill_with(cache, image, data):
    fill = cache.begin_fill(image)
    assert fill is not None
    fill.write(data)
    return fill


# -- layout -----------------------------------------------------------------

def test_only_image_ids_make_paths(tmp_path):
    layout = layout_lib.Layout(str(tmp_path))
    for bad in ('../etc/passwd', 'x', '', 'cache.db',
                '{%s}' % uuid.uuid4(), str(uuid.uuid4()).replace('-', '')):
        with pytest.raises(ValueError):
            layout.path(bad)
    good = str(uuid.uuid4())
    assert layout.path(good, 'queue') == str(tmp_path / 'queue' / good)


def test_listing_skips_what_is_not_an_image(tmp_path):
    layout = layout_lib.Layout(str(tmp_path))
    (tmp_path / 'cache.db').write_bytes(b'x')
    image_id = str(uuid.uuid4())
    (tmp_path / image_id).write_bytes(b'abc')
    assert [(i, s.st_size) for i, s in layout.entries()] == [(image_id, 3)]


def test_one_writer_per_incomplete_file(tmp_path):
    layout = layout_lib.Layout(str(tmp_path))
    image_id = str(uuid.uuid4())
    fd = layout.lock_incomplete(image_id)
    assert fd is not None
    assert layout.lock_incomplete(image_id) is None
    # A locked file is someone's work in progress: never removed.
    assert layout.remove_abandoned() == []
    os.close(fd)
    # Unlocked, it is a leftover.
    assert layout.remove_abandoned() == [image_id]
    assert not layout.exists(image_id, 'incomplete')


def test_abandoned_files_younger_than_the_stall_time_stay(tmp_path):
    layout = layout_lib.Layout(str(tmp_path))
    image_id = str(uuid.uuid4())
    os.close(os.open(layout.path(image_id, 'incomplete'), os.O_CREAT))
    assert layout.remove_abandoned(older_than=time.time() - 60) == []
    assert layout.remove_abandoned(older_than=time.time() + 60) == \
        [image_id]


# -- fills ------------------------------------------------------------------

def test_a_whole_verified_fill_is_served(cache):
    data = os.urandom(300000)
    image = image_of(data)
    assert cache.lookup(image) is None
    fill = fill_with(cache, image, data)
    # Nobody else fills it meanwhile, and it is not servable yet.
    assert cache.begin_fill(image) is None
    assert cache.lookup(image) is None
    assert fill.commit() is True
    path = cache.lookup(image)
    with open(path, 'rb') as f:
        assert f.read() == data
    assert [e['image_id'] for e in cache.cached_images()] == [image.id]
    entry = cache.cached_images()[0]
    assert entry['size'] == len(data) and entry['hits'] == 1
    assert cache.begin_fill(image) is None


@pytest.mark.parametrize('written,checksum', [
    (b'short', None), (b'x' * 10, '0' * 32)])
def test_a_fill_that_does_not_match_is_never_served(cache, written,
                                                    checksum):
    image = image_of(b'x' * 10, checksum=checksum)
    fill = fill_with(cache, image, written)
    assert fill.commit() is False
    assert cache.lookup(image) is None
    assert cache.cached_images() == []
    assert cache.layout.exists(image.id, 'invalid')
    assert cache.clean() == 1
    assert not cache.layout.exists(image.id, 'invalid')


def test_sha512_is_checked_without_an_md5(cache):
    data = b'abc' * 1000
    image = image_of(data, os_hash_algo='sha512',
                     os_hash_value=hashlib.sha512(b'other').hexdigest())
    image.checksum = None
    assert fill_with(cache, image, data).commit() is False
    image.os_hash_value = hashlib.sha512(data).hexdigest()
    assert fill_with(cache, image, data).commit() is True


def test_an_aborted_fill_leaves_nothing(cache):
    data = b'y' * 1000
    image = image_of(data)
    fill = fill_with(cache, image, data[:10])
    fill.abort('test')
    assert os.listdir(cache.layout.directory('incomplete')) == []
    assert cache.lookup(image) is None
    assert cache.begin_fill(image) is not None


def test_a_cached_file_of_the_wrong_size_is_dropped(cache):
    data = b'z' * 100
    image = image_of(data)
    assert fill_with(cache, image, data).commit()
    image.size = 99
    assert cache.lookup(image) is None
    assert not cache.is_cached(image.id)


def test_kernel_copy_of_a_local_file(cache, tmp_path):
    data = os.urandom(1 << 20)
    source = tmp_path / 'store-file'
    source.write_bytes(data)
    image = image_of(data)
    fill = cache.begin_fill(image)
    fill.copy_file(str(source))
    assert fill.commit()
    assert open(cache.lookup(image), 'rb').read() == data


def _wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_tee_passes_every_chunk_and_commits_at_the_end(cache):
    chunks = [os.urandom(1000) for _ in range(5)]
    image = image_of(b''.join(chunks))
    tee = fill_lib.Tee(iter(chunks), cache.begin_fill(image))
    assert list(tee) == chunks
    tee.close()
    _wait_for(lambda: cache.is_cached(image.id))
    assert open(cache.layout.path(image.id), 'rb').read() == \
        b''.join(chunks)


def _incomplete(cache):
    return os.listdir(cache.layout.directory('incomplete'))


def test_tee_closed_early_drops_the_fill(cache):
    chunks = [os.urandom(1000) for _ in range(5)]
    image = image_of(b''.join(chunks))
    tee = fill_lib.Tee(iter(chunks), cache.begin_fill(image))
    next(tee)
    tee.close()
    _wait_for(lambda: _incomplete(cache) == [])
    assert not cache.is_cached(image.id)


def test_tee_keeps_serving_when_the_cache_disk_fails(cache):
    chunks = [b'a' * 10, b'b' * 10]
    image = image_of(b''.join(chunks))
    fill = cache.begin_fill(image)
    os.close(fill.fd)
    fill.fd = os.open(os.devnull, os.O_RDONLY)
    tee = fill_lib.Tee(iter(chunks), fill)
    assert list(tee) == chunks
    tee.close()
    _wait_for(lambda: _incomplete(cache) == [])
    assert not cache.is_cached(image.id)


def test_tee_lets_go_when_the_cache_disk_falls_behind(cache, monkeypatch):
    monkeypatch.setattr(fill_lib, 'TEE_BACKLOG', 2500)
    woken = []
    monkeypatch.setattr(cache, 'prefetch_soon', lambda: woken.append(1))
    chunks = [os.urandom(1000) for _ in range(20)]
    image = image_of(b''.join(chunks))
    fill = cache.begin_fill(image)
    release = threading.Event()
    write = fill.write

    def slow_write(chunk):
        release.wait(10)
        write(chunk)
    fill.write = slow_write
    tee = fill_lib.Tee(iter(chunks), fill)
    # The client gets every chunk at once, whatever the disk does.
    assert list(tee) == chunks
    tee.close()
    release.set()
    _wait_for(lambda: _incomplete(cache) == [])
    assert not cache.is_cached(image.id)
    # The prefetcher will cache it instead.
    assert cache.queued_images() == [image.id]
    assert woken == [1]


# -- queue, delete, prune ---------------------------------------------------

def test_queue(cache):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert cache.queue(first) is True
    assert cache.queue(first) is False
    os.utime(cache.layout.path(first, 'queue'), (1, 1))
    assert cache.queue(second) is True
    assert cache.queued_images() == [first, second]
    assert cache.dequeue(first) is True
    assert cache.queued_images() == [second]
    assert cache.delete_all_queued() == 1
    assert cache.queued_images() == []


def test_a_cached_image_is_not_queued_and_leaves_the_queue(cache):
    data = b'q' * 10
    image = image_of(data)
    assert cache.queue(image.id)
    assert fill_with(cache, image, data).commit()
    assert cache.queued_images() == []
    assert cache.queue(image.id) is False


def test_delete_and_delete_all(cache):
    images = [image_of(os.urandom(10)) for _ in range(3)]
    for image in images:
        fill = cache.begin_fill(image)
        fill.write(open(os.devnull, 'rb').read())
    for image in images:
        cache.layout.remove(image.id, 'incomplete')
    data = {image.id: os.urandom(10) for image in images}
    for image in images:
        image.checksum = hashlib.md5(data[image.id]).hexdigest()
        assert fill_with(cache, image, data[image.id]).commit()
    assert cache.delete(images[0].id) is True
    assert cache.delete(images[0].id) is False
    assert len(cache.cached_images()) == 2
    assert cache.delete_all() == 2
    assert cache.cached_images() == []
    assert cache.size() == 0


def test_prune_least_recently_used_first(cache):
    images = []
    for n in range(3):
        data = bytes([n]) * 1000
        image = image_of(data)
        assert fill_with(cache, image, data).commit()
        images.append(image)
        time.sleep(0.01)
    time.sleep(0.01)
    cache.lookup(images[0])
    assert cache.prune(max_size=5000) == (0, 0)
    assert cache.prune(max_size=2000) == (1, 1000)
    assert sorted(e['image_id'] for e in cache.cached_images()) == \
        sorted([images[0].id, images[2].id])
    assert cache.prune(max_size=0) == (2, 2000)
    assert cache.size() == 0


def test_clean_drops_files_of_images_no_longer_active(cache):
    data = b'c' * 10
    live, gone = image_of(data), image_of(data)
    assert fill_with(cache, live, data).commit()
    assert fill_with(cache, gone, data).commit()
    assert cache.clean(live_image_ids={live.id}) == 1
    assert cache.is_cached(live.id) and not cache.is_cached(gone.id)


def test_recover_removes_leftovers_of_a_killed_writer(cache):
    image = image_of(b'x')
    fill = cache.begin_fill(image)
    fill.write(b'partial')
    # The process dies: its descriptors (and the lock) go.
    os.close(fill.fd)
    cache.recover()
    assert os.listdir(cache.layout.directory('incomplete')) == []
