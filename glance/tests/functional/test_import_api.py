"""Interoperable import against a real glance-api with two file stores.

glance-direct (stage + import), web-download from a local http.server
(127.0.0.1 allowed by configuration, any port), copy-image between the
stores, the import lock under concurrent requests and when its task is
dead, validation answers (400/403/409), the checksum extension, progress
messages, format inspection, the per-image tasks list and the legacy
/v2/tasks API, through raw HTTP.
"""

import concurrent.futures
import hashlib
import os
import random
import sqlite3
import tempfile
import time
import uuid

import pytest

from glance.tests.functional import import_helpers as h
from glance.tests.functional import server as server_lib

MiB = h.MiB

SERVER_OPTIONS = {
    'DEFAULT': {'enabled_backends': 'fast:file,cheap:file',
                'workers': 2},
    'glance_store': {'default_backend': 'fast'},
    'import_filtering_opts': {'allowed_hosts': '127.0.0.1',
                              'allowed_ports': ''},
}


@pytest.fixture(scope='module')
def server():
    server = server_lib.start_or_skip('sqlite', options=SERVER_OPTIONS,
                                      threads=8)
    yield server
    server.cleanup_in_background()


@pytest.fixture(scope='module')
def web():
    web = h.WebServer()
    yield web
    web.stop()


@pytest.fixture
def member(server):
    client = server.client(project_id='p1', roles='member,reader')
    yield client
    client.close()


@pytest.fixture
def admin(server):
    client = server.client()
    yield client
    client.close()


def data_of(size, seed=0):
    return random.Random(seed).randbytes(size)


# -- glance-direct -----------------------------------------------------

def test_glance_direct(server, member):
    data = data_of(3 * MiB + 17, seed=1)
    image = h.create_image(member)
    response = h.stage(member, image['id'], data,
                       headers={'x-openstack-image-size': str(len(data))})
    assert response.status_code == 204, response.text
    staged = h.show(member, image['id'])
    assert staged['status'] == 'uploading'
    assert 'os_glance_stage_host' not in staged
    assert h.staging_files(server, image['id'])

    response = h.import_image(member, image['id'])
    assert response.status_code == 202, response.text
    assert response.content == b''
    task = h.wait_task(member, image['id'])
    assert task['status'] == 'success', task
    image = h.show(member, image['id'])
    md5, sha512 = h.hashes(data)
    assert image['status'] == 'active'
    assert image['size'] == len(data)
    assert image['virtual_size'] == len(data)
    assert image['checksum'] == md5
    assert image['os_hash_algo'] == 'sha512'
    assert image['os_hash_value'] == sha512
    assert image['stores'] == 'fast'
    # The bookkeeping the reference leaves behind (multi-store).
    assert image['os_glance_importing_to_stores'] == ''
    assert image['os_glance_failed_import'] == ''
    assert 'os_glance_import_task' not in image
    assert 'os_glance_import_host' not in image
    assert h.staging_files(server, image['id']) == []
    download = member.get('/v2/images/%s/file' % image['id'])
    assert download.content == data

    # The task as the per-image tasks list shows it.
    assert task['type'] == 'api_image_import'
    assert task['image_id'] == image['id']
    assert task['owner'] == 'p1'
    assert task['user_id'] == 'user-of-p1'
    assert task['input']['import_req']['method']['name'] == 'glance-direct'
    assert task['input']['backend'] == ['fast']
    assert task['result']['image_id'] == image['id']
    assert task['deleted'] is False and task['deleted_at'] is None
    assert task['request_id'].startswith('req-')
    assert not task['created_at'].endswith('Z')
    assert '.' in task['created_at']
    assert task['expires_at']


def test_stage_size_mismatch_leaves_queued(member):
    image = h.create_image(member)
    response = h.stage(member, image['id'], b'x' * 1000,
                       headers={'x-openstack-image-size': '999'})
    assert response.status_code == 400
    assert h.show(member, image['id'])['status'] == 'queued'
    response = h.stage(member, image['id'], b'x' * 1000,
                       headers={'x-openstack-image-size': '1000'})
    assert response.status_code == 204
    assert h.show(member, image['id'])['status'] == 'uploading'


def test_stage_needs_queued_image(member):
    image = h.create_image(member)
    assert h.stage(member, image['id'], b'abc').status_code == 204
    assert h.stage(member, image['id'], b'abc').status_code == 409
    assert member.put('/v2/images/%s/stage' % uuid.uuid4(), data=b'x',
                      headers=h.OCTET).status_code == 404


def test_delete_removes_staged_data(server, member):
    image = h.create_image(member)
    assert h.stage(member, image['id'], b'abc' * 100).status_code == 204
    assert h.staging_files(server, image['id'])
    assert member.delete('/v2/images/%s' % image['id']).status_code == 204
    assert h.staging_files(server, image['id']) == []


# -- request validation ------------------------------------------------

@pytest.mark.parametrize('body, code', [
    ({}, 400),
    ({'method': 'glance-direct'}, 400),
    ({'method': {'name': 'swift-local'}}, 400),
    ({'method': {'name': 'glance-download', 'glance_region': 'R2',
                 'glance_image_id': str(uuid.uuid4())}}, 400),  # disabled
    ({'method': {'name': 'web-download'}}, 400),
    ({'method': {'name': 'glance-direct', 'uri': 'http://x/'}}, 400),
    ({'method': {'name': 'glance-direct'}, 'stores': 'fast'}, 400),
    ({'method': {'name': 'glance-direct'}, 'stores': ['fast'],
      'all_stores': True}, 400),
    ({'method': {'name': 'glance-direct'}, 'all_stores': 'yes'}, 400),
    ({'method': {'name': 'glance-direct',
                 'validation_data': {'os_hash_algo': 'sha256',
                                     'os_hash_value': 'abc'}}}, 400),
    ({'method': {'name': 'glance-direct',
                 'validation_data': {'os_hash_algo': 'crc32',
                                     'os_hash_value': 'ab'}}}, 400),
    ({'method': {'name': 'glance-direct'}}, 409),  # image is queued
    ({'method': {'name': 'glance-direct'}, 'stores': ['nowhere']}, 409),
])
def test_import_request_validation(member, body, code):
    image = h.create_image(member)
    if code == 409 and body.get('stores') == ['nowhere']:
        assert h.stage(member, image['id'], b'data').status_code == 204
    response = member.post('/v2/images/%s/import' % image['id'], json=body)
    assert response.status_code == code, response.text
    assert h.tasks_of(member, image['id']) == []


def test_import_of_unknown_image(member):
    response = h.import_image(member, str(uuid.uuid4()))
    assert response.status_code == 404


def test_formats_required(member):
    image = h.create_image(member, disk_format=None, container_format=None)
    response = h.import_image(member, image['id'], 'web-download',
                              method_extra={'uri': 'http://127.0.0.1/x'})
    # 409, as the reference answers.
    assert response.status_code == 409
    assert 'container_format' in response.json()['message']


# -- web-download ------------------------------------------------------

def test_web_download_to_two_stores(member, web):
    data = data_of(2 * MiB, seed=2)
    web.files['/two.raw'] = data
    image = h.create_image(member)
    response = h.import_image(member, image['id'], 'web-download',
                              method_extra={'uri': web.url('/two.raw')},
                              stores=['fast', 'cheap'])
    assert response.status_code == 202, response.text
    image = h.show(member, image['id'])
    assert image['status'] == 'importing'
    task = h.wait_task(member, image['id'])
    assert task['status'] == 'success', task
    image = h.show(member, image['id'])
    assert image['status'] == 'active'
    assert set(image['stores'].split(',')) == {'fast', 'cheap'}
    assert image['checksum'] == h.hashes(data)[0]
    assert image['os_glance_importing_to_stores'] == ''
    assert image['os_glance_failed_import'] == ''
    assert member.get('/v2/images/%s/file' % image['id']).content == data


@pytest.mark.parametrize('mode', ['chunked', 'short'])
def test_web_download_of_a_chunked_or_truncated_source(member, web, mode):
    data = data_of(3 * MiB + 11, seed=12)
    web.files['/%s.raw' % mode] = data
    image = h.create_image(member)
    uri = web.url('/%s/%s.raw' % (mode, mode))
    response = h.import_image(member, image['id'], 'web-download',
                              method_extra={'uri': uri})
    assert response.status_code == 202, response.text
    task = h.wait_task(member, image['id'])
    if mode == 'short':
        # Half of what the source announced never makes an image.
        assert task['status'] == 'failure', task
        assert 'bytes' in task['message'], task
        assert h.show(member, image['id'])['status'] == 'queued'
        return
    assert task['status'] == 'success', task
    image = h.show(member, image['id'])
    assert image['size'] == len(data)
    assert (image['checksum'], image['os_hash_value']) == h.hashes(data)
    assert member.get('/v2/images/%s/file' % image['id']).content == data


def test_web_download_404(member, web):
    image = h.create_image(member)
    response = h.import_image(member, image['id'], 'web-download',
                              method_extra={'uri': web.url('/missing')})
    assert response.status_code == 202
    task = h.wait_task(member, image['id'])
    assert task['status'] == 'failure'
    assert '404' in task['message']
    image = h.show(member, image['id'])
    assert image['status'] == 'queued'
    assert image['os_glance_failed_import'] == 'fast'
    assert image['os_glance_importing_to_stores'] == ''
    assert 'os_glance_import_task' not in image


def test_web_download_redirects_are_checked(member, web):
    data = data_of(1000, seed=3)
    web.files['/r.raw'] = data
    ok = h.create_image(member)
    uri = web.url('/redirect?to=%s' % web.url('/r.raw'))
    assert h.import_image(member, ok['id'], 'web-download',
                          method_extra={'uri': uri}).status_code == 202
    assert h.wait_task(member, ok['id'])['status'] == 'success'
    assert h.show(member, ok['id'])['checksum'] == h.hashes(data)[0]

    # 127.0.0.2 is loopback and not in allowed_hosts.
    bad = h.create_image(member)
    uri = web.url('/redirect?to=%s' % web.url('/r.raw', host='127.0.0.2'))
    assert h.import_image(member, bad['id'], 'web-download',
                          method_extra={'uri': uri}).status_code == 202
    task = h.wait_task(member, bad['id'])
    assert task['status'] == 'failure'
    assert 'does not pass filtering' in task['message']
    assert '127.0.0.2' in task['message']
    assert h.show(member, bad['id'])['status'] == 'queued'


def test_web_download_refused_uri(member):
    image = h.create_image(member)
    for uri in ('http://127.0.0.2/x', 'ftp://127.0.0.1/x',
                'file:///etc/passwd', 'http://169.254.169.254/'):
        response = h.import_image(member, image['id'], 'web-download',
                                  method_extra={'uri': uri})
        assert response.status_code == 400, uri
        assert 'filtering' in response.json()['message']
    assert h.show(member, image['id'])['status'] == 'queued'
    assert h.tasks_of(member, image['id']) == []


def test_validation_data(member, web):
    data = data_of(MiB, seed=4)
    web.files['/v.raw'] = data
    good = h.create_image(member)
    response = h.import_image(member, good['id'], 'web-download',
                              method_extra={
                                  'uri': web.url('/v.raw'),
                                  'validation_data': {
                                      'os_hash_algo': 'sha256',
                                      'os_hash_value': hashlib.sha256(
                                          data).hexdigest()}})
    assert response.status_code == 202, response.text
    assert h.wait_task(member, good['id'])['status'] == 'success'
    assert h.show(member, good['id'])['status'] == 'active'

    bad = h.create_image(member)
    response = h.import_image(member, bad['id'], 'web-download',
                              method_extra={
                                  'uri': web.url('/v.raw'),
                                  'validation_data': {
                                      'os_hash_algo': 'sha256',
                                      'os_hash_value': '0' * 64}})
    assert response.status_code == 202
    task = h.wait_task(member, bad['id'])
    assert task['status'] == 'failure'
    assert 'sha256' in task['message'] and '0' * 64 in task['message']
    assert h.show(member, bad['id'])['status'] == 'queued'

    # glance-direct, with the MD5 the stage computed.
    direct = h.create_image(member)
    assert h.stage(member, direct['id'], data).status_code == 204
    response = h.import_image(member, direct['id'], method_extra={
        'validation_data': {'checksum': hashlib.md5(b'other').hexdigest()}})
    assert response.status_code == 202
    task = h.wait_task(member, direct['id'])
    assert task['status'] == 'failure' and 'md5' in task['message']
    image = h.show(member, direct['id'])
    assert image['status'] == 'queued' and image['checksum'] is None


def test_progress_is_reported(member, web):
    data = data_of(4 * MiB, seed=5)
    web.files['/progress.raw'] = data
    image = h.create_image(member)
    uri = web.url('/slow/progress.raw?seconds=3')
    assert h.import_image(member, image['id'], 'web-download',
                          method_extra={'uri': uri}).status_code == 202
    seen = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        task = h.tasks_of(member, image['id'])[0]
        if task['status'] == 'processing' and '%' in task['message']:
            seen.add(task['message'])
        if task['status'] in ('success', 'failure'):
            break
        time.sleep(0.1)
    assert task['status'] == 'success', task
    assert seen, 'no progress message was seen'
    assert any(m.startswith('Downloaded ') and 'of 4.0 MiB' in m
               for m in seen), seen


# -- copy-image --------------------------------------------------------

def _upload(client, image_id, data, store):
    response = client.put('/v2/images/%s/file' % image_id, data=data,
                          headers=dict(h.OCTET,
                                       **{'X-Image-Meta-Store': store}))
    assert response.status_code == 204, response.text


def test_copy_image(admin, member):
    data = data_of(MiB + 5, seed=6)
    image = h.create_image(member)
    # Only active images can be copied.
    assert h.import_image(admin, image['id'], 'copy-image',
                          stores=['cheap']).status_code == 409
    _upload(member, image['id'], data, 'fast')

    # Members may not copy (admin only by default).
    response = h.import_image(member, image['id'], 'copy-image',
                              stores=['cheap'])
    assert response.status_code == 403
    assert h.import_image(admin, image['id'], 'copy-image',
                          stores=['fast']).status_code == 400
    assert h.import_image(admin, image['id'], 'copy-image',
                          stores=['nowhere']).status_code == 409
    assert h.import_image(admin, image['id'],
                          'copy-image').status_code == 400

    response = h.import_image(admin, image['id'], 'copy-image',
                              stores=['cheap'])
    assert response.status_code == 202, response.text
    task = h.wait_task(admin, image['id'])
    assert task['status'] == 'success', task
    copied = h.show(admin, image['id'])
    assert copied['status'] == 'active'
    assert copied['stores'].split(',') == ['fast', 'cheap']
    assert copied['checksum'] == h.hashes(data)[0]
    assert copied['os_glance_importing_to_stores'] == ''
    # The owner does not see the admin's task (reference item 10).
    assert h.tasks_of(member, image['id']) == []

    # In every store already: 202, and nothing happens.
    response = h.import_image(admin, image['id'], 'copy-image',
                              all_stores=True)
    assert response.status_code == 202
    assert len(h.tasks_of(admin, image['id'])) == 1
    # The copy survives the loss of the original store.
    assert admin.delete('/v2/stores/fast/%s' % image['id']).status_code == 204
    assert admin.get('/v2/images/%s/file' % image['id']).content == data


# -- the lock ----------------------------------------------------------

def test_concurrent_imports(server, member):
    image = h.create_image(member)
    assert h.stage(member, image['id'], data_of(MiB)).status_code == 204
    barrier = __import__('threading').Barrier(6)

    def attempt(_):
        client = server.client(project_id='p1', roles='member,reader')
        try:
            barrier.wait()
            return h.import_image(client, image['id']).status_code
        finally:
            client.close()

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(attempt, range(6)))
    assert codes == [202] + [409] * 5, codes
    assert h.wait_task(member, image['id'])['status'] == 'success'
    assert len(h.tasks_of(member, image['id'])) == 1


def _db(server):
    return sqlite3.connect(os.path.join(server.directory, 'glance.sqlite'),
                           timeout=30)


def _plant_lock(server, image_id, age_minutes):
    """A lock held by a task nobody runs, last seen age_minutes ago."""
    task_id = str(uuid.uuid4())
    seen = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(
        time.time() - age_minutes * 60))
    with _db(server) as db:
        db.execute("INSERT INTO tasks (id, type, status, owner, image_id, "
                   "input, message, created_at, updated_at, deleted) "
                   "VALUES (?, 'api_image_import', 'processing', 'p1', ?, "
                   "'{}', '', ?, ?, 0)", (task_id, image_id, seen, seen))
        db.execute("INSERT INTO image_properties (image_id, name, value) "
                   "VALUES (?, 'os_glance_import_task', ?)",
                   (image_id, task_id))
        db.execute("UPDATE images SET status = 'importing' WHERE id = ?",
                   (image_id,))
    return task_id


def test_live_lock_refuses_and_stale_lock_is_broken(server, member, web):
    web.files['/lock.raw'] = b'lock' * 1000
    uri = web.url('/lock.raw')
    image = h.create_image(member)
    _plant_lock(server, image['id'], age_minutes=5)
    response = h.import_image(member, image['id'], 'web-download',
                              method_extra={'uri': uri})
    assert response.status_code == 409

    other = h.create_image(member)
    dead = _plant_lock(server, other['id'], age_minutes=90)
    response = h.import_image(member, other['id'], 'web-download',
                              method_extra={'uri': uri})
    assert response.status_code == 202, response.text
    assert h.wait_status(member, other['id'], 'active')
    tasks = {t['id']: t for t in h.tasks_of(member, other['id'])}
    assert tasks[dead]['status'] == 'failure'
    assert 'abandoned' in tasks[dead]['message']


# -- format inspection -------------------------------------------------

def test_format_mismatch_fails_and_returns_to_queued(server, member):
    image = h.create_image(member, disk_format='qcow2')
    assert h.stage(member, image['id'], data_of(MiB)).status_code == 204
    assert h.import_image(member, image['id']).status_code == 202
    task = h.wait_task(member, image['id'])
    assert task['status'] == 'failure'
    assert 'does not match' in task['message']
    image = h.show(member, image['id'])
    # Not stuck in importing, as the reference leaves it (item 14).
    assert image['status'] == 'queued'
    assert image['size'] is None and image['checksum'] is None
    assert image['os_glance_failed_import'] == 'fast'
    assert h.staging_files(server, image['id']) == []
    assert h.store_files(server, image['id']) == []
    # The user can try again.
    assert h.stage(member, image['id'], b'again').status_code == 204


@pytest.mark.skipif(not h.have_qemu_img(), reason='qemu-img is missing')
def test_qcow2_is_inspected(member):
    with tempfile.TemporaryDirectory() as tmp:
        good = h.make_qcow2(tmp, 'good.qcow2', size='8M')
        base = os.path.join(tmp, 'base.raw')
        with open(base, 'wb') as f:
            f.truncate(MiB)
        backed = h.make_qcow2(tmp, 'backed.qcow2', size='1M',
                              backing=base)
    image = h.create_image(member, disk_format='qcow2')
    assert h.stage(member, image['id'], good).status_code == 204
    assert h.import_image(member, image['id']).status_code == 202
    assert h.wait_task(member, image['id'])['status'] == 'success'
    image = h.show(member, image['id'])
    assert image['virtual_size'] == 8 * MiB
    assert image['size'] == len(good)

    unsafe = h.create_image(member, disk_format='qcow2')
    assert h.stage(member, unsafe['id'], backed).status_code == 204
    assert h.import_image(member, unsafe['id']).status_code == 202
    task = h.wait_task(member, unsafe['id'])
    assert task['status'] == 'failure'
    assert 'safety' in task['message']
    assert h.show(member, unsafe['id'])['status'] == 'queued'


# -- the legacy tasks API ----------------------------------------------

@pytest.fixture(scope='module')
def open_tasks_server(tmp_path_factory):
    """An operator who lets members use the tasks API."""
    policy = tmp_path_factory.mktemp('policy') / 'policy.yaml'
    policy.write_text('"tasks_api_access": "role:member"\n')
    options = dict(SERVER_OPTIONS,
                   oslo_policy={'policy_file': str(policy)})
    server = server_lib.start_or_skip('sqlite', options=options)
    yield server
    server.cleanup_in_background()


def test_the_tasks_api_shows_a_project_its_own_tasks(open_tasks_server,
                                                     web):
    web.files['/mine.raw'] = data_of(1000, seed=9)
    alice = open_tasks_server.client(project_id='alice',
                                     roles='member,reader')
    bob = open_tasks_server.client(project_id='bob', roles='member,reader')
    admin = open_tasks_server.client()
    body = {'type': 'import',
            'input': {'import_from': web.url('/mine.raw'),
                      'import_from_format': 'raw',
                      'image_properties': {'name': 'mine',
                                           'container_format': 'bare'}}}
    response = alice.post('/v2/tasks', json=body)
    assert response.status_code == 201, response.text
    task_id = response.json()['id']

    def listed(client):
        response = client.get('/v2/tasks')
        assert response.status_code == 200, response.text
        return [t['id'] for t in response.json()['tasks']]

    assert alice.get('/v2/tasks/%s' % task_id).json()['owner'] == 'alice'
    assert task_id in listed(alice)
    # Another project neither sees it nor learns that it exists.
    assert bob.get('/v2/tasks/%s' % task_id).status_code == 404
    assert task_id not in listed(bob)
    assert bob.get('/v2/tasks?marker=%s' % task_id).status_code == 400
    # The admin sees every project's tasks.
    assert admin.get('/v2/tasks/%s' % task_id).status_code == 200
    assert task_id in listed(admin)
    # Still not deletable, by anybody.
    assert alice.delete('/v2/tasks/%s' % task_id).status_code == 405
    assert admin.delete('/v2/tasks/%s' % task_id).status_code == 405
    for client in (alice, bob, admin):
        client.close()


def test_legacy_tasks_api(admin, member, web):
    data = data_of(10000, seed=7)
    web.files['/task.raw'] = data
    body = {'type': 'import',
            'input': {'import_from': web.url('/task.raw'),
                      'import_from_format': 'raw',
                      'image_properties': {'name': 'from-task',
                                           'container_format': 'bare'}}}
    assert member.post('/v2/tasks', json=body).status_code == 403
    # Refused before the body is looked at: a bad body is 403 too.
    assert member.post('/v2/tasks', json={'type': 'nonsense'}) \
        .status_code == 403
    assert member.post('/v2/tasks', data=b'{not json',
                       headers={'Content-Type': 'application/json'}) \
        .status_code == 403
    assert member.get('/v2/tasks').status_code == 403
    response = admin.post('/v2/tasks', json=body)
    assert response.status_code == 201, response.text
    task = response.json()
    assert task['status'] == 'pending' and task['type'] == 'import'
    assert task['self'] == '/v2/tasks/%s' % task['id']
    deadline = time.monotonic() + 20
    while task['status'] not in ('success', 'failure'):
        assert time.monotonic() < deadline, task
        time.sleep(0.05)
        task = admin.get('/v2/tasks/%s' % task['id']).json()
    assert task['status'] == 'success', task
    assert task['created_at'].endswith('Z') and task['expires_at']
    image = h.show(admin, task['result']['image_id'])
    assert image['name'] == 'from-task' and image['status'] == 'active'
    assert image['checksum'] == h.hashes(data)[0]

    listed = admin.get('/v2/tasks').json()
    assert listed['schema'] == '/v2/schemas/tasks'
    assert task['id'] in [t['id'] for t in listed['tasks']]
    assert 'input' not in listed['tasks'][0]
    assert admin.get('/v2/tasks?type=import').status_code == 200
    assert admin.get('/v2/tasks?type=api_image_import').status_code == 400
    assert admin.get('/v2/tasks?status=bogus').status_code == 400
    assert admin.get('/v2/tasks?sort_key=owner').status_code == 400
    assert admin.get('/v2/tasks?limit=1').json()['next']
    assert admin.get('/v2/tasks/%s' % uuid.uuid4()).status_code == 404
    assert admin.delete('/v2/tasks/%s' % task['id']).status_code == 405
    assert member.delete('/v2/tasks/%s' % task['id']).status_code == 403
    bad = dict(body, input=dict(body['input']))
    del bad['input']['import_from']
    assert admin.post('/v2/tasks', json=bad).status_code == 400
    assert admin.post('/v2/tasks', json=dict(body, type='api_image_import')
                      ).status_code == 400
