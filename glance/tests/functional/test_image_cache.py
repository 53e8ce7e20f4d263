"""The image cache against real glance-api processes (cache flavors).

A download of an uncached image fills the cache beside the store
download; later downloads come from the cache, which the tests prove by
removing the store's file. Around that: Range, concurrent first
downloads, delete and deactivate while cached, an http store (the tee
path), a crash in the middle of a fill, pruning, cleaning, the
prefetch queue across a restart, and the cache API through raw HTTP,
python-glanceclient and the glance command, with its policies.
"""

import concurrent.futures
import hashlib
import http.server
import os
import random
import re
import socketserver
import subprocess
import sys
import threading
import time

import glanceclient
import pytest

from glance.tests.functional import server as server_lib

OCTET = {'Content-Type': 'application/octet-stream'}
MiB = 1024 * 1024
MEMBER = dict(project_id='project-b', roles='member')


def data_of(size, seed=0):
    return random.Random(seed).randbytes(size)


def start_cache_server(flavor='cachemanagement', extra=None,
                       backend='sqlite'):
    server = server_lib.Server(backend, workers=2)
    try:
        server.prepare()
    except server_lib.BackendUnavailable as e:
        server.cleanup()
        if server_lib.require_all_dbs():
            pytest.fail('%s backend required but unavailable: %s'
                        % (backend, e))
        pytest.skip('%s backend unavailable: %s' % (backend, e))
    options = {
        'DEFAULT': {'image_cache_dir': os.path.join(server.directory,
                                                    'cache'),
                    'cache_prefetcher_interval': 1},
        'paste_deploy': {'flavor': flavor},
        'glance_store': {'stores': 'file,http'},
    }
    for section, values in (extra or {}).items():
        options.setdefault(section, {}).update(values)
    server.options = options
    server._write_config()
    server.start()
    return server


@pytest.fixture(scope='module')
def srv():
    server = start_cache_server()
    yield server
    server.cleanup_in_background()


@pytest.fixture
def client(srv):
    client = srv.client()
    yield client
    client.close()


def cache_dir(server):
    return os.path.join(server.directory, 'cache')


def store_file(server, image_id):
    return os.path.join(server.state_path, 'images', image_id)


def new_image(client, data, **extra):
    response = client.create_image(name='cached', disk_format='raw',
                                   container_format='bare', **extra)
    assert response.status_code == 201, response.text
    image_id = response.json()['id']
    response = client.put('/v2/images/%s/file' % image_id, data=data,
                          headers=OCTET)
    assert response.status_code == 204, response.text
    return image_id


def cache_state(client):
    response = client.get('/v2/cache')
    assert response.status_code == 200, response.text
    return response.json()


def cached_ids(client):
    return [entry['image_id'] for entry in cache_state(client)
            ['cached_images']]


def wait_cached(client, image_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if image_id in cached_ids(client):
            return
        time.sleep(0.05)
    raise AssertionError('image %s was not cached' % image_id)


def cached_image(srv, client, size=3 * MiB + 7, seed=1):
    """An active image that is in the cache, and its data."""
    data = data_of(size, seed)
    image_id = new_image(client, data)
    response = client.get('/v2/images/%s/file' % image_id)
    assert response.status_code == 200
    assert response.content == data
    wait_cached(client, image_id)
    return image_id, data


def incomplete_files(server):
    return os.listdir(os.path.join(cache_dir(server), 'incomplete'))


# -- the versions document ------------------------------------------------

def test_versions_with_cache(srv, client):
    response = client.get('/versions')
    versions = response.json()['versions']
    assert [v['id'] for v in versions] == [
        'v2.18', 'v2.17', 'v2.16', 'v2.15', 'v2.14', 'v2.7', 'v2.6',
        'v2.5', 'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0']
    assert [v['id'] for v in versions if v['status'] == 'CURRENT'] == \
        ['v2.18']


# -- cached downloads -----------------------------------------------------

def test_miss_then_hit_without_the_store(srv, client):
    data = data_of(5 * MiB + 3, seed=2)
    image_id = new_image(client, data)
    assert image_id not in cached_ids(client)
    first = client.get('/v2/images/%s/file' % image_id)
    assert first.status_code == 200
    assert first.content == data
    wait_cached(client, image_id)
    cached = os.path.join(cache_dir(srv), image_id)
    with open(cached, 'rb') as f:
        assert f.read() == data
    # The second download cannot come from the store any more.
    os.unlink(store_file(srv, image_id))
    for _ in range(2):
        second = client.get('/v2/images/%s/file' % image_id)
        assert second.status_code == 200
        assert second.content == data
        assert second.headers['Content-MD5'] == \
            hashlib.md5(data).hexdigest()
        assert second.headers['Content-Type'] == 'application/octet-stream'
        assert int(second.headers['Content-Length']) == len(data)
    entry = [e for e in cache_state(client)['cached_images']
             if e['image_id'] == image_id][0]
    assert entry['hits'] == 2
    assert entry['size'] == len(data)
    assert entry['last_accessed'] >= entry['last_modified']
    log = srv.log_text()
    assert 'Image cache miss for image %s' % image_id in log
    assert 'Image cache hit for image %s' % image_id in log


def test_range_on_a_cached_image(srv, client):
    image_id, data = cached_image(srv, client, seed=3)
    os.unlink(store_file(srv, image_id))
    path = '/v2/images/%s/file' % image_id
    response = client.get(path, headers={'Range': 'bytes=100-1099'})
    assert response.status_code == 206
    assert response.content == data[100:1100]
    assert response.headers['Content-Range'] == \
        'bytes 100-1099/%d' % len(data)
    response = client.get(path, headers={'Range': 'bytes=-10'})
    assert response.status_code == 206
    assert response.content == data[-10:]
    response = client.get(path, headers={'Range': 'bytes=%d-' % len(data)})
    assert response.status_code == 416


def test_a_range_request_does_not_fill_the_cache(srv, client):
    data = data_of(MiB, seed=4)
    image_id = new_image(client, data)
    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Range': 'bytes=0-99'})
    assert response.status_code == 206
    time.sleep(0.5)
    assert image_id not in cached_ids(client)


def test_concurrent_first_downloads_fill_once(srv):
    data = data_of(24 * MiB + 5, seed=5)
    setup = srv.client()
    image_id = new_image(setup, data)

    def download(_):
        client = srv.client()
        try:
            response = client.get('/v2/images/%s/file' % image_id)
            return response.status_code, hashlib.md5(
                response.content).hexdigest()
        finally:
            client.close()

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(download, range(6)))
    assert results == [(200, hashlib.md5(data).hexdigest())] * 6
    wait_cached(setup, image_id)
    time.sleep(0.5)
    assert srv.log_text().count('Image %s cached' % image_id) == 1
    assert incomplete_files(srv) == []
    setup.close()


def test_delete_while_cached(srv, client):
    image_id, _data = cached_image(srv, client, seed=6)
    assert os.path.exists(os.path.join(cache_dir(srv), image_id))
    assert client.delete('/v2/images/%s' % image_id).status_code == 204
    assert not os.path.exists(os.path.join(cache_dir(srv), image_id))
    assert image_id not in cached_ids(client)
    assert client.get('/v2/images/%s/file' % image_id).status_code == 404


def test_deleted_elsewhere_is_never_served(srv, client):
    """A cached file of an image deleted through another node stays on
    disk here until cleaned, but is never served."""
    image_id, data = cached_image(srv, client, seed=7)
    cached = os.path.join(cache_dir(srv), image_id)
    kept = cached + '.kept'
    os.link(cached, kept)
    assert client.delete('/v2/images/%s' % image_id).status_code == 204
    os.rename(kept, cached)
    assert client.get('/v2/images/%s/file' % image_id).status_code == 404
    assert os.path.exists(cached)
    # The cleaner removes it.
    result = run_command(srv, 'clean')
    assert result.returncode == 0, result.stdout
    assert not os.path.exists(cached)


def test_deactivated_while_cached(srv, client):
    image_id, data = cached_image(srv, client, seed=8)
    os.unlink(store_file(srv, image_id))
    assert client.post('/v2/images/%s/actions/deactivate'
                       % image_id).status_code == 204
    member = srv.client(project_id='someone', roles='member')
    path = '/v2/images/%s/file' % image_id
    # The owner, not admin: refused as for any deactivated image.
    owner = srv.client(project_id=client.get(
        '/v2/images/%s' % image_id).json()['owner'], roles='member')
    assert owner.get(path).status_code == 403
    # An admin reads deactivated images from the store only: the store's
    # file is gone, so the cached copy would have been the only source.
    assert client.get(path).status_code == 503
    assert member.get(path).status_code == 404
    assert client.post('/v2/images/%s/actions/reactivate'
                       % image_id).status_code == 204
    response = owner.get(path)
    assert response.status_code == 200
    assert response.content == data
    member.close()
    owner.close()


def test_download_policy_applies_to_cached_images(tmp_path):
    policy = tmp_path / 'policy.yaml'
    policy.write_text('"download_image": "role:admin"\n')
    server = start_cache_server(flavor='cache', extra={
        'oslo_policy': {'policy_file': str(policy)}})
    try:
        admin = server.client()
        image_id, data = cached_image(server, admin, seed=9)
        owner_project = admin.get('/v2/images/%s' % image_id).json()['owner']
        # A reader of the image who may not download it: 403 (one who
        # cannot even read it gets 404, as the reference answers).
        owner = server.client(project_id=owner_project,
                              roles='member,reader')
        assert owner.get('/v2/images/%s/file' % image_id).status_code == 403
        assert admin.get('/v2/images/%s/file' % image_id).content == data
    finally:
        server.cleanup_in_background()


@pytest.mark.parametrize('backend,driver', [
    (backend, 'centralized_db') for backend in server_lib.BACKENDS] + [
    ('sqlite', 'sqlite'), ('sqlite', 'xattr')])
def test_each_database_and_driver(backend, driver):
    server = start_cache_server(flavor='cache', backend=backend, extra={
                                    'DEFAULT': {'image_cache_driver': driver,
                                                'worker_self_reference_url':
                                                'http://node-a:9292'}})
    try:
        client = server.client()
        image_id, data = cached_image(server, client, size=MiB, seed=31)
        os.unlink(store_file(server, image_id))
        for _ in range(3):
            assert client.get('/v2/images/%s/file'
                              % image_id).content == data
        entry = cache_state(client)['cached_images'][0]
        assert entry['image_id'] == image_id
        assert entry['hits'] == 3
        nodes = client.get('/v2/cache/nodes/%s' % image_id)
        if driver == 'centralized_db':
            assert nodes.json() == ['http://node-a:9292']
        else:
            assert nodes.status_code == 409
        assert client.delete('/v2/cache/%s' % image_id).status_code == 204
        assert cache_state(client)['cached_images'] == []
    finally:
        server.cleanup_in_background()


# -- the tee path: a store that is not a local file -----------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    data = b''
    delay = 0

    def log_message(self, *args):
        pass

    def _headers(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(self.data)))
        self.send_header('Content-Type', 'application/octet-stream')
        self.end_headers()

    def do_HEAD(self):
        self._headers()

    def do_GET(self):
        self._headers()
        for start in range(0, len(self.data), 256 * 1024):
            self.wfile.write(self.data[start:start + 256 * 1024])
            if self.delay:
                time.sleep(self.delay)


class _HTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


@pytest.fixture
def http_source():
    servers = []

    def start(data, delay=0):
        handler = type('Handler', (_Handler,), {'data': data,
                                                'delay': delay})
        httpd = _HTTPServer(('127.0.0.1', 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return httpd, 'http://127.0.0.1:%d/image' % httpd.server_port
    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def http_image(client, url, data, os_hash_value=None):
    response = client.create_image(name='http', disk_format='raw',
                                   container_format='bare')
    image_id = response.json()['id']
    response = client.post('/v2/images/%s/locations' % image_id, json={
        'url': url, 'validation_data': {
            'os_hash_algo': 'sha512',
            'os_hash_value': (os_hash_value or
                              hashlib.sha512(data).hexdigest())}})
    assert response.status_code == 202, response.text
    # 202: the location is added (and its data hashed) in the background.
    deadline = time.monotonic() + 30
    while client.get('/v2/images/%s' % image_id).json()['status'] \
            != 'active':
        assert time.monotonic() < deadline, 'image %s not active' % image_id
        time.sleep(0.1)
    return image_id


def test_http_store_download_is_teed_into_the_cache(srv, client,
                                                    http_source):
    data = data_of(4 * MiB + 9, seed=10)
    httpd, url = http_source(data)
    image_id = http_image(client, url, data)
    response = client.get('/v2/images/%s/file' % image_id)
    assert response.content == data
    wait_cached(client, image_id)
    httpd.shutdown()
    httpd.server_close()
    response = client.get('/v2/images/%s/file' % image_id)
    assert response.status_code == 200
    assert response.content == data


def test_data_not_matching_the_checksum_is_not_cached(http_source):
    # Without do_secure_hash the validation data is recorded as given,
    # so the image can carry a hash its data does not match.
    srv = start_cache_server(extra={'DEFAULT': {'do_secure_hash': False}})
    try:
        _data_not_matching_the_checksum_is_not_cached(srv, srv.client(),
                                                      http_source)
    finally:
        srv.cleanup_in_background()


def _data_not_matching_the_checksum_is_not_cached(srv, client, http_source):
    data = data_of(2 * MiB, seed=11)
    _httpd, url = http_source(data)
    image_id = http_image(client, url, data, os_hash_value='0' * 128)
    client.get('/v2/images/%s/file' % image_id)
    invalid = os.path.join(cache_dir(srv), 'invalid', image_id)
    deadline = time.monotonic() + 10
    while not os.path.exists(invalid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.exists(invalid)
    assert image_id not in cached_ids(client)
    assert not os.path.exists(os.path.join(cache_dir(srv), image_id))


def test_a_client_gone_mid_download_leaves_nothing(srv, client,
                                                   http_source):
    data = data_of(8 * MiB, seed=12)
    _httpd, url = http_source(data, delay=0.05)
    image_id = http_image(client, url, data)
    response = client.get('/v2/images/%s/file' % image_id, stream=True)
    next(response.iter_content(65536))
    response.close()
    deadline = time.monotonic() + 10
    while image_id in incomplete_files(srv) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    assert image_id not in incomplete_files(srv)
    assert image_id not in cached_ids(client)


def test_killed_mid_fill_leaves_nothing_servable(http_source):
    server = start_cache_server(flavor='cache')
    try:
        client = server.client()
        data = data_of(8 * MiB, seed=13)
        _httpd, url = http_source(data, delay=0.1)
        image_id = http_image(client, url, data)
        response = client.get('/v2/images/%s/file' % image_id, stream=True)
        next(response.iter_content(65536))
        assert image_id in incomplete_files(server)
        server.kill()
        response.close()
        # Left behind: a partial file, never in place, never recorded.
        assert image_id in incomplete_files(server)
        assert not os.path.exists(os.path.join(cache_dir(server), image_id))
        server._spawn()
        assert image_id not in incomplete_files(server)
        client = server.client()
        assert image_id not in cached_ids(client)
        assert client.get('/v2/images/%s/file'
                          % image_id).content == data
        wait_cached(client, image_id)
    finally:
        server.cleanup_in_background()


# -- upkeep: prune, clean, prefetch ---------------------------------------

def command_line(server, name):
    script = os.path.join(os.path.dirname(sys.executable),
                          'glance-cache-%s' % name)
    if os.path.exists(script):
        return [script]
    function = {'prefetcher': 'prefetch', 'pruner': 'prune',
                'cleaner': 'clean'}[name]
    return [sys.executable, '-c',
            'import sys; from glance.cmd import cache_commands; '
            'sys.exit(cache_commands.%s())' % function]


def run_command(server, action, *extra_config):
    name = {'prefetch': 'prefetcher', 'prune': 'pruner',
            'clean': 'cleaner'}[action]
    command = command_line(server, name) + ['--config-file',
                                            server.config_path]
    for path in extra_config:
        command += ['--config-file', path]
    return subprocess.run(command, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120,
                          cwd=server.directory)


def test_pruner_removes_least_recently_used_first(srv, client):
    client.delete('/v2/cache')
    old, _ = cached_image(srv, client, size=2 * MiB, seed=14)
    recent, _ = cached_image(srv, client, size=2 * MiB, seed=15)
    newest, _ = cached_image(srv, client, size=2 * MiB, seed=16)
    time.sleep(0.01)
    # A hit makes "old" the most recently used.
    assert client.get('/v2/images/%s/file' % old).status_code == 200
    limit = os.path.join(srv.directory, 'prune.conf')
    with open(limit, 'w') as f:
        f.write('[DEFAULT]\nimage_cache_max_size = %d\n' % (4 * MiB + 1))
    result = run_command(srv, 'prune', limit)
    assert result.returncode == 0, result.stdout
    assert 'Pruned 1 file(s), %d byte(s).' % (2 * MiB) in result.stdout
    assert sorted(cached_ids(client)) == sorted([old, newest])
    assert not os.path.exists(os.path.join(cache_dir(srv), recent))
    # Under the limit: nothing to do.
    result = run_command(srv, 'prune', limit)
    assert 'Pruned 0 file(s), 0 byte(s).' in result.stdout


def test_prune_api(srv, client):
    client.delete('/v2/cache')
    cached_image(srv, client, size=MiB, seed=17)
    response = client.post('/v2/cache/prune')
    assert response.status_code == 200
    assert response.json() == {'total_files_pruned': 0,
                               'total_bytes_pruned': 0}


def test_cleaner_removes_invalid_and_stalled_files(srv, client):
    cache = cache_dir(srv)
    invalid = os.path.join(cache, 'invalid',
                           'a1a2a3a4-0000-4000-8000-000000000001')
    stalled = os.path.join(cache, 'incomplete',
                           'a1a2a3a4-0000-4000-8000-000000000002')
    fresh = os.path.join(cache, 'incomplete',
                         'a1a2a3a4-0000-4000-8000-000000000003')
    for path in (invalid, stalled, fresh):
        with open(path, 'wb') as f:
            f.write(b'partial')
    os.utime(stalled, (time.time() - 90000, time.time() - 90000))
    result = run_command(srv, 'clean')
    assert result.returncode == 0, result.stdout
    assert not os.path.exists(invalid)
    assert not os.path.exists(stalled)
    # Written recently: maybe someone is still writing it.
    assert os.path.exists(fresh)
    assert client.post('/v2/cache/clean').status_code == 200
    assert os.path.exists(fresh)
    os.unlink(fresh)


def test_prefetch_queue_survives_a_restart(srv, client):
    data = data_of(MiB + 1, seed=18)
    image_id = new_image(client, data)
    # With the store's file away, the prefetch cannot succeed: the image
    # stays queued.
    away = store_file(srv, image_id) + '.away'
    os.rename(store_file(srv, image_id), away)
    assert client.put('/v2/cache/%s' % image_id).status_code == 202
    time.sleep(1.5)
    state = cache_state(client)
    assert image_id in state['queued_images']
    assert image_id not in cached_ids(client)
    srv.stop()
    os.rename(away, store_file(srv, image_id))
    srv._spawn()
    fresh = srv.client()
    wait_cached(fresh, image_id)
    assert image_id not in cache_state(fresh)['queued_images']
    os.unlink(store_file(srv, image_id))
    assert fresh.get('/v2/images/%s/file' % image_id).content == data
    fresh.close()


def test_prefetcher_command(srv, client):
    data = data_of(MiB, seed=19)
    image_id = new_image(client, data)
    open(os.path.join(cache_dir(srv), 'queue', image_id), 'w').close()
    result = run_command(srv, 'prefetch')
    assert result.returncode == 0, result.stdout
    assert image_id in cached_ids(client)
    assert image_id not in cache_state(client)['queued_images']


# -- the cache API --------------------------------------------------------

def test_cache_api(srv, client):
    client.delete('/v2/cache')
    cached, _ = cached_image(srv, client, size=MiB, seed=20)
    data = data_of(MiB, seed=21)
    queued = new_image(client, data)
    os.rename(store_file(srv, queued), store_file(srv, queued) + '.away')
    assert client.put('/v2/cache/%s' % queued).status_code == 202
    state = cache_state(client)
    assert state['queued_images'] == [queued]
    assert [e['image_id'] for e in state['cached_images']] == [cached]
    assert set(state['cached_images'][0]) == {
        'image_id', 'hits', 'last_accessed', 'last_modified', 'size'}

    nodes = client.get('/v2/cache/nodes/%s' % cached)
    assert nodes.status_code == 200
    assert len(nodes.json()) == 1

    # Not an active image: 400; unknown image: 404.
    empty = client.create_image(name='empty', disk_format='raw',
                                container_format='bare').json()['id']
    assert client.put('/v2/cache/%s' % empty).status_code == 400
    unknown = '01234567-89ab-4def-8123-456789abcdef'
    assert client.put('/v2/cache/%s' % unknown).status_code == 404
    assert client.delete('/v2/cache/%s' % unknown).status_code == 404
    assert client.put('/v2/cache/not-an-id').status_code == 404
    assert client.get('/v2/cache/nodes/%s' % unknown).status_code == 404

    # The clear targets.
    bad = client.delete('/v2/cache',
                        headers={'x-image-cache-clear-target': 'both'})
    assert bad.status_code == 400
    assert client.delete('/v2/cache', headers={
        'x-image-cache-clear-target': 'queue'}).status_code == 204
    state = cache_state(client)
    assert state['queued_images'] == []
    assert [e['image_id'] for e in state['cached_images']] == [cached]
    assert client.delete('/v2/cache', headers={
        'x-image-cache-clear-target': 'cache'}).status_code == 204
    assert cache_state(client) == {'cached_images': [],
                                   'queued_images': []}
    cached_image(srv, client, size=MiB, seed=22)
    assert client.put('/v2/cache/%s' % queued).status_code == 202
    assert client.delete('/v2/cache').status_code == 204
    assert cache_state(client) == {'cached_images': [],
                                   'queued_images': []}

    # One entry, from the cache and the queue.
    image_id, _ = cached_image(srv, client, size=MiB, seed=23)
    assert client.delete('/v2/cache/%s' % image_id).status_code == 204
    assert image_id not in cached_ids(client)
    assert not os.path.exists(os.path.join(cache_dir(srv), image_id))

    # Methods the table does not have.
    response = client.post('/v2/cache')
    assert response.status_code == 405
    assert response.headers['Allow'] == 'GET, DELETE'
    os.rename(store_file(srv, queued) + '.away', store_file(srv, queued))


def test_cache_api_refuses_members(srv, client):
    image_id, _ = cached_image(srv, client, size=MiB, seed=24)
    owner_project = client.get('/v2/images/%s' % image_id).json()['owner']
    member = srv.client(project_id=owner_project, roles='member,reader')
    calls = [('GET', '/v2/cache'), ('DELETE', '/v2/cache'),
             ('PUT', '/v2/cache/%s' % image_id),
             ('DELETE', '/v2/cache/%s' % image_id),
             ('GET', '/v2/cache/nodes/%s' % image_id),
             ('POST', '/v2/cache/clean'), ('POST', '/v2/cache/prune'),
             ('GET', '/v2/cached_images'), ('GET', '/v2/queued_images')]
    for method, path in calls:
        response = member.request(method, path)
        assert response.status_code == 403, (method, path, response.text)
    assert image_id in cached_ids(client)
    member.close()


def test_legacy_cache_management_calls(srv, client):
    image_id, _ = cached_image(srv, client, size=MiB, seed=25)
    listed = client.get('/v2/cached_images')
    assert listed.status_code == 200
    assert image_id in [e['image_id']
                        for e in listed.json()['cached_images']]
    other = new_image(client, data_of(MiB, seed=26))
    os.rename(store_file(srv, other), store_file(srv, other) + '.away')
    assert client.put('/v2/queued_images/%s' % other).status_code == 200
    assert client.get('/v2/queued_images').json() == {
        'queued_images': [other]}
    assert client.delete('/v2/queued_images').json() == {'num_deleted': 1}
    assert client.delete('/v2/cached_images/%s'
                         % image_id).status_code == 200
    assert image_id not in cached_ids(client)


def test_no_cache_api_without_a_cache_dir(api_server):
    response = api_server.request('GET', '/v2/cache')
    assert response.status_code == 404
    assert 'not supported' in response.text


# -- python-glanceclient and the glance command ----------------------------

def test_glanceclient_cache_calls(srv, client):
    gc = glanceclient.Client('2', endpoint=srv.url, token='x')
    client.delete('/v2/cache')
    image_id, _ = cached_image(srv, client, size=MiB, seed=27)
    listed = gc.cache.list()
    assert [e['image_id'] for e in listed['cached_images']] == [image_id]
    other = new_image(client, data_of(MiB, seed=28))
    os.rename(store_file(srv, other), store_file(srv, other) + '.away')
    gc.cache.queue(other)
    assert gc.cache.list()['queued_images'] == [other]
    gc.cache.delete(image_id)
    assert gc.cache.list()['cached_images'] == []
    gc.cache.clear('both')
    assert gc.cache.list()['queued_images'] == []
    assert gc.cache.prune() is not None
    os.rename(store_file(srv, other) + '.away', store_file(srv, other))


def glance_cli(server, *args):
    command = [os.path.join(os.path.dirname(sys.executable), 'glance'),
               '--os-image-url', server.url, '--os-auth-token', 'x']
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    return subprocess.run(command + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120,
                          env=env)


def test_glance_command_cache_calls(srv, client):
    if not os.path.exists(os.path.join(os.path.dirname(sys.executable),
                                       'glance')):
        pytest.skip('the glance command is not installed')
    client.delete('/v2/cache')
    image_id, _ = cached_image(srv, client, size=MiB, seed=29)
    result = glance_cli(srv, 'cache-list')
    assert result.returncode == 0, result.stdout
    assert image_id in result.stdout
    other = new_image(client, data_of(MiB, seed=30))
    os.rename(store_file(srv, other), store_file(srv, other) + '.away')
    result = glance_cli(srv, 'cache-queue', other)
    assert result.returncode == 0, result.stdout
    assert other in cache_state(client)['queued_images']
    result = glance_cli(srv, 'cache-delete', image_id)
    assert result.returncode == 0, result.stdout
    assert image_id not in cached_ids(client)
    result = glance_cli(srv, 'cache-clear', '--target', 'queue')
    assert result.returncode == 0, result.stdout
    assert cache_state(client)['queued_images'] == []
    result = glance_cli(srv, 'cache-clear')
    assert result.returncode == 0, result.stdout
    os.rename(store_file(srv, other) + '.away', store_file(srv, other))
    assert re.search(r'error', result.stdout, re.I) is None
