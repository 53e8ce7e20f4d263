"""Image locations as OpenStack's integration tests drive them: an http
store, show_multiple_locations and do_secure_hash on.

The legacy PATCH (add /locations/- with validation_data, replace
/locations) and the 2.17 POST /v2/images/{id}/locations, whose
validation_data is checked at once (400) and verified in a
location_import task that hashes the data at the location.
"""

import hashlib
import random
import time

import pytest

from glance.tests.functional import import_helpers as h

SERVER_OPTIONS = {
    'DEFAULT': {'show_multiple_locations': 'true',
                'do_secure_hash': 'true'},
    'glance_store': {'stores': 'file,http', 'default_store': 'file'},
}
PATCH = 'application/openstack-images-v2.1-json-patch'
DATA = random.Random(17).randbytes(300 * 1024)


@pytest.fixture(scope='module')
def web():
    web = h.WebServer()
    web.files['/img.raw'] = DATA
    web.files['/big.raw'] = random.Random(5).randbytes(48 * 1024 * 1024)
    yield web
    web.stop()


@pytest.fixture
def client(api_server):
    client = api_server.client()
    yield client
    client.close()


def new_image(client):
    return h.create_image(client)


def patch(client, image_id, ops):
    return client.patch('/v2/images/%s' % image_id, ops, media_type=PATCH)


def add_location(client, image_id, url, validation_data=None):
    body = {'url': url}
    if validation_data is not None:
        body['validation_data'] = validation_data
    return client.post('/v2/images/%s/locations' % image_id, json=body)


def wait_for_task(client, image_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = h.tasks_of(client, image_id)
        if tasks and tasks[0]['status'] in ('success', 'failure'):
            return tasks[0]
        time.sleep(0.2)
    raise AssertionError('task of image %s did not finish' % image_id)


# -- the legacy PATCH ---------------------------------------------------

def test_add_location_with_validation_data(client, web):
    image = new_image(client)
    location = {'url': web.url('/img.raw'), 'metadata': {},
                'validation_data': {'checksum': '1' * 32,
                                    'os_hash_algo': 'sha512',
                                    'os_hash_value': 'deadbeef' * 16}}
    response = patch(client, image['id'], [
        {'op': 'add', 'path': '/locations/-', 'value': location}])
    assert response.status_code == 200, response.text
    shown = h.show(client, image['id'])
    assert shown['status'] == 'active'
    assert shown['checksum'] == '1' * 32
    assert shown['os_hash_algo'] == 'sha512'
    assert shown['os_hash_value'] == 'deadbeef' * 16
    assert shown['size'] == len(DATA)
    assert shown['locations'] == [{'url': web.url('/img.raw'),
                                   'metadata': {}}]
    # A second location with the same values is fine...
    same = dict(location, url=web.url('/img.raw') + '#second')
    response = patch(client, image['id'], [
        {'op': 'add', 'path': '/locations/-', 'value': same}])
    assert response.status_code == 200, response.text
    assert len(h.show(client, image['id'])['locations']) == 2
    # ... different ones are a conflict, one key at a time.
    for key, value in (('checksum', '2' * 32),
                       ('os_hash_value', 'beefdead' * 16),
                       ('os_hash_algo', 'sha256')):
        other = dict(location, url=web.url('/img.raw') + '#third')
        other['validation_data'] = dict(location['validation_data'],
                                        **{key: value})
        response = patch(client, image['id'], [
            {'op': 'add', 'path': '/locations/-', 'value': other}])
        assert response.status_code == 409, (key, response.text)
    assert len(h.show(client, image['id'])['locations']) == 2


@pytest.mark.parametrize('validation_data', [
    {'checksum': 'zz' * 16, 'os_hash_algo': 'sha512',
     'os_hash_value': 'ab' * 64},
    {'os_hash_algo': 'sha256', 'os_hash_value': 'ab' * 32},
    {'os_hash_algo': 'sha512', 'os_hash_value': 'ab' * 10},
])
def test_add_location_with_bad_validation_data(client, web,
                                               validation_data):
    image = new_image(client)
    location = {'url': web.url('/img.raw'), 'metadata': {},
                'validation_data': validation_data}
    response = patch(client, image['id'], [
        {'op': 'add', 'path': '/locations/-', 'value': location}])
    assert response.status_code == 409, response.text
    shown = h.show(client, image['id'])
    assert shown['status'] == 'queued' and shown['checksum'] is None


def test_replace_locations_of_an_active_image(client, web):
    image = new_image(client)
    first = {'url': web.url('/img.raw'), 'metadata': {}}
    second = {'url': web.url('/img.raw') + '#2', 'metadata': {'a': 'b'}}
    response = patch(client, image['id'], [
        {'op': 'replace', 'path': '/locations', 'value': [first, second]}])
    assert response.status_code == 200, response.text
    assert h.show(client, image['id'])['status'] == 'active'
    # The same list again, and a change of metadata: allowed.
    response = patch(client, image['id'], [
        {'op': 'replace', 'path': '/locations', 'value': [first, second]}])
    assert response.status_code == 200, response.text
    dated = dict(first, metadata={'date': '2015-10-15'})
    response = patch(client, image['id'], [
        {'op': 'replace', 'path': '/locations', 'value': [dated, second]}])
    assert response.status_code == 200, response.text
    # Dropping one, or another URL: 400; nothing changes.
    for value in ([dated], [dated, {'url': web.url('/img.raw') + '#new3',
                                    'metadata': {}}]):
        response = patch(client, image['id'], [
            {'op': 'replace', 'path': '/locations', 'value': value}])
        assert response.status_code == 400, response.text
    shown = h.show(client, image['id'])
    assert shown['locations'] == [dated, second]
    assert client.get('/v2/images/%s/file' % image['id']).content == DATA


# -- the 2.17 add-location call ------------------------------------------

def test_add_location_refusals(client, web):
    image = new_image(client)
    url = web.url('/img.raw')
    sha256 = hashlib.sha256(DATA).hexdigest()
    for bad in ({'os_hash_algo': 'sha512', 'os_hash_value': 'ab' * 15},
                {'os_hash_value': hashlib.sha512(DATA).hexdigest()},
                {'os_hash_algo': 'sha512'},
                {'os_hash_algo': 'sha123', 'os_hash_value': sha256},
                {'os_hash_algo': 'sha512', 'os_hash_value': sha256},
                {'os_hash_algo': 'sha256', 'os_hash_value': 'zz' * 32},
                {'os_hash_algo': 'sha256', 'os_hash_value': sha256,
                 'checksum': '1' * 32}):
        response = add_location(client, image['id'], url, bad)
        assert response.status_code == 400, (bad, response.text)
    assert h.tasks_of(client, image['id']) == []
    assert h.show(client, image['id'])['status'] == 'queued'


@pytest.mark.parametrize('algorithm', ['sha256', 'sha512', 'sha1', 'md5'])
def test_add_location_verified(client, web, algorithm):
    image = new_image(client)
    value = hashlib.new(algorithm, DATA).hexdigest()
    response = add_location(client, image['id'], web.url('/img.raw'), {
        'os_hash_algo': algorithm, 'os_hash_value': value})
    assert response.status_code == 202, response.text
    task = wait_for_task(client, image['id'])
    assert task['status'] == 'success', task
    assert task['type'] == 'location_import'
    shown = h.show(client, image['id'])
    assert shown['status'] == 'active'
    assert shown['os_hash_algo'] == algorithm
    assert shown['os_hash_value'] == value
    assert shown['checksum'] == hashlib.md5(DATA).hexdigest()
    assert shown['size'] == len(DATA)
    assert 'os_glance_import_task' not in shown
    # Active now: another location through this call is a conflict.
    response = add_location(client, image['id'], web.url('/img.raw'))
    assert response.status_code == 409


def test_add_location_mismatch(client, web):
    image = new_image(client)
    response = add_location(client, image['id'], web.url('/img.raw'), {
        'os_hash_algo': 'sha512', 'os_hash_value': 'beefdead' * 16})
    assert response.status_code == 202, response.text
    task = wait_for_task(client, image['id'])
    assert task['status'] == 'failure'
    assert 'not matched' in task['message']
    shown = h.show(client, image['id'])
    assert shown['status'] == 'queued'
    assert shown['checksum'] is None and shown['os_hash_value'] is None
    assert shown['os_hash_algo'] is None
    assert 'os_glance_import_task' not in shown


def test_add_location_without_validation_data(client, web):
    image = new_image(client)
    response = add_location(client, image['id'], web.url('/img.raw'))
    assert response.status_code == 202
    task = wait_for_task(client, image['id'])
    assert task['status'] == 'success', task
    deadline = time.monotonic() + 30
    while h.show(client, image['id'])['os_hash_value'] is None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    shown = h.show(client, image['id'])
    assert shown['status'] == 'active'
    assert shown['os_hash_algo'] == 'sha512'
    assert shown['os_hash_value'] == hashlib.sha512(DATA).hexdigest()
    assert shown['checksum'] == hashlib.md5(DATA).hexdigest()


def test_deleting_the_image_cancels_the_task(client, web):
    image = new_image(client)
    # Slow: the hashing is still under way when the image is deleted.
    url = web.url('/slow/big.raw?seconds=20')
    response = add_location(client, image['id'], url, {
        'os_hash_algo': 'sha256', 'os_hash_value': 'ab' * 32})
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 20
    while h.show(client, image['id'])['status'] != 'importing':
        assert time.monotonic() < deadline
        time.sleep(0.1)
    tasks = h.tasks_of(client, image['id'])
    assert client.delete('/v2/images/%s' % image['id']).status_code == 204
    # The task ends well before the 20 seconds the data takes to come.
    started = time.monotonic()
    task_id = tasks[0]['id']
    while True:
        task = client.get('/v2/tasks/%s' % task_id).json()
        if task['status'] in ('success', 'failure'):
            break
        assert time.monotonic() - started < 10, task
        time.sleep(0.2)
    assert task['status'] == 'failure'
    assert 'cancel' in task['message']


def test_a_crash_mid_hash_leaves_the_image_queued(web):
    """The node is named on the image as for an import: after a kill -9
    while the location's data is hashed, the restarted server puts the
    image back to queued and fails the task."""
    from glance.tests.functional import server as server_lib

    server = server_lib.start_or_skip('sqlite', options=SERVER_OPTIONS)
    client = server.client()
    try:
        image = new_image(client)
        response = add_location(
            client, image['id'], web.url('/slow/big.raw?seconds=30'),
            {'os_hash_algo': 'sha256', 'os_hash_value': 'ab' * 32})
        assert response.status_code == 202, response.text
        deadline = time.monotonic() + 20
        while h.show(client, image['id'])['status'] != 'importing':
            assert time.monotonic() < deadline
            time.sleep(0.1)
        server.kill()
        server.restart()
        shown = h.show(client, image['id'])
        assert shown['status'] == 'queued'
        assert 'os_glance_import_task' not in shown
        [task] = h.tasks_of(client, image['id'])
        assert task['status'] == 'failure'
        # And it can be tried again.
        response = add_location(client, image['id'], web.url('/img.raw'))
        assert response.status_code == 202, response.text
        task = wait_for_task(client, image['id'])
        assert task['status'] == 'success', task
        assert h.show(client, image['id'])['status'] == 'active'
    finally:
        client.close()
        server.cleanup()
