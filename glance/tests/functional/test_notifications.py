"""Notifications on a real RabbitMQ: each API call's events, as a
consumer on the server's topic receives them; disabled_notifications;
property protections in payloads; and a broker that is away, which must
not slow down or fail a single request.
"""

import hashlib
import socket
import statistics
import textwrap
import threading
import time

import pytest

from glance.tests.functional import import_helpers as helpers
from glance.tests.functional import rabbit
from glance.tests.functional import server as server_lib

OCTET = {'Content-Type': 'application/octet-stream'}
DATA = b'notified bits ' * 1000

PROTECTIONS = """
    [^x_secret_.*]
    create = admin,member
    read = admin
    update = admin
    delete = admin

    [.*]
    create = admin,member
    read = admin,member,reader
    update = admin,member
    delete = admin,member
    """


@pytest.fixture(scope='module')
def rabbit_url():
    return rabbit.url_or_skip()


@pytest.fixture(scope='module')
def consumer(rabbit_url):
    made = rabbit.Consumer(rabbit_url)
    yield made
    made.close()


@pytest.fixture(scope='module')
def server(rabbit_url, consumer):
    options = rabbit.server_options(rabbit_url, consumer.topic)
    # The legacy import test fetches from loopback.
    options['import_filtering_opts'] = {'allowed_hosts': '127.0.0.1'}
    server = server_lib.start_or_skip('sqlite', options=options)
    yield server
    server.cleanup_in_background()


@pytest.fixture
def client(server):
    made = server.client('p1', user_id='u1', roles='admin,member,reader')
    yield made
    made.close()


def _new_image(client, **values):
    return helpers.create_image(client, **values)['id']


def _upload(client, image_id, data=DATA):
    response = client.put('/v2/images/%s/file' % image_id, data=data,
                          headers=OCTET)
    assert response.status_code == 204, response.text


def test_create_update_delete(client, consumer):
    image_id = _new_image(client, name='n1', x_colour='blue',
                          tags=['t1'])
    [event] = consumer.wait_for('image.create', id=image_id)
    assert event['publisher_id'] == 'image.test'
    assert event['priority'] == 'INFO'
    payload = event['payload']
    assert payload['name'] == 'n1'
    assert payload['status'] == 'queued'
    assert payload['owner'] == 'p1'
    assert payload['visibility'] == 'shared'
    assert payload['is_public'] is False
    assert payload['properties'] == {'x_colour': 'blue'}
    assert payload['tags'] == ['t1']
    assert payload['deleted'] is False and payload['deleted_at'] is None
    assert 'locations' not in payload

    response = client.patch_image(image_id, [
        {'op': 'add', 'path': '/x_size', 'value': 'big'}])
    assert response.status_code == 200, response.text
    [event] = consumer.wait_for('image.update', id=image_id)
    assert event['payload']['properties'] == {'x_colour': 'blue',
                                              'x_size': 'big'}

    assert client.delete('/v2/images/%s' % image_id).status_code == 204
    [event] = consumer.wait_for('image.delete', id=image_id)
    assert event['payload']['deleted'] is True
    assert event['payload']['deleted_at']
    assert event['payload']['status'] == 'deleted'


def test_upload_and_download(client, consumer):
    image_id = _new_image(client)
    _upload(client, image_id)
    [prepare] = consumer.wait_for('image.prepare', id=image_id)
    assert prepare['payload']['status'] == 'saving'
    assert prepare['payload']['os_glance_importing_to_stores'] == []
    [upload] = consumer.wait_for('image.upload', id=image_id)
    assert upload['payload']['size'] == len(DATA)
    assert upload['payload']['checksum'] == hashlib.md5(DATA).hexdigest()
    [activate] = consumer.wait_for('image.activate', id=image_id)
    assert activate['payload']['status'] == 'active'
    order = [e['event_type'] for e in consumer.events()
             if isinstance(e['payload'], dict) and
             e['payload'].get('id') == image_id]
    assert order.index('image.prepare') < order.index('image.upload') \
        < order.index('image.activate')

    response = client.get('/v2/images/%s/file' % image_id)
    assert response.content == DATA
    [send] = consumer.wait_for('image.send', image_id=image_id)
    assert send['priority'] == 'INFO'
    assert send['payload'] == {
        'bytes_sent': len(DATA), 'image_id': image_id, 'owner_id': 'p1',
        'receiver_tenant_id': 'p1', 'receiver_user_id': 'u1'}

    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Range': 'bytes=10-109'})
    assert response.status_code == 206
    consumer.wait_for('image.send', image_id=image_id, bytes_sent=100)


def test_download_cut_short_is_an_error_event(server, client, consumer):
    data = b'x' * (8 * 1024 * 1024)
    image_id = _new_image(client)
    _upload(client, image_id, data)
    sock = socket.create_connection(('127.0.0.1', server.port))
    sock.sendall(('GET /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                  'X-Project-Id: p1\r\nX-Roles: admin\r\n\r\n'
                  % image_id).encode())
    sock.recv(65536)
    sock.close()
    [event] = consumer.wait_for('image.send', image_id=image_id)
    assert event['priority'] == 'ERROR'
    # What the server wrote whole before the client went away.
    assert 0 <= event['payload']['bytes_sent'] < len(data)


def test_upload_failure_is_an_error_event(client, consumer):
    image_id = _new_image(client, disk_format='qcow2')
    response = client.put('/v2/images/%s/file' % image_id,
                          data=b'not a qcow2 image' * 100, headers=OCTET)
    assert response.status_code == 415, response.text
    deadline = time.monotonic() + 15
    while True:
        errors = [e for e in consumer.events()
                  if e['event_type'] == 'image.upload' and
                  e['priority'] == 'ERROR' and image_id in e['payload']]
        if errors or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert errors, consumer.received


def test_members(server, client, consumer):
    image_id = _new_image(client, visibility='shared')
    response = client.post('/v2/images/%s/members' % image_id,
                           json={'member': 'p2'})
    assert response.status_code == 200, response.text
    [event] = consumer.wait_for('image.member.create', image_id=image_id)
    assert event['payload']['member_id'] == 'p2'
    assert event['payload']['status'] == 'pending'

    member = server.client('p2', roles='member,reader')
    response = member.put('/v2/images/%s/members/p2' % image_id,
                          json={'status': 'accepted'})
    assert response.status_code == 200, response.text
    member.close()
    [event] = consumer.wait_for('image.member.update', image_id=image_id)
    assert event['payload']['status'] == 'accepted'

    response = client.delete('/v2/images/%s/members/p2' % image_id)
    assert response.status_code == 204
    [event] = consumer.wait_for('image.member.delete', image_id=image_id)
    assert event['payload']['deleted'] is True
    assert event['payload']['member_id'] == 'p2'


def _task_events(consumer, task_id, wanted):
    return {t: consumer.wait_for(t, id=task_id)[0]['payload']
            for t in wanted}


def test_glance_direct_import(client, consumer):
    image_id = _new_image(client)
    assert helpers.stage(client, image_id, DATA).status_code == 204
    response = helpers.import_image(client, image_id)
    assert response.status_code == 202, response.text
    task = helpers.wait_task(client, image_id)
    assert task['status'] == 'success', task
    events = _task_events(consumer, task['id'], (
        'task.create', 'task.run', 'task.processing', 'task.success'))
    assert events['task.create']['status'] == 'pending'
    assert events['task.processing']['status'] == 'processing'
    assert events['task.success']['status'] == 'success'
    for payload in events.values():
        assert payload['type'] == 'api_image_import'
        assert payload['owner'] == 'p1'
        # Never the input: it may hold URLs with credentials.
        assert 'input' not in payload and payload['result'] is None
    [prepare] = consumer.wait_for('image.prepare', id=image_id)
    assert prepare['payload']['status'] == 'importing'
    assert prepare['payload']['os_glance_failed_import'] == []
    [upload] = consumer.wait_for('image.upload', id=image_id)
    assert 'os_glance_importing_to_stores' in upload['payload']
    [activate] = consumer.wait_for('image.activate', id=image_id)
    assert activate['payload']['status'] == 'active'
    assert activate['payload']['size'] == len(DATA)


def test_failed_import_is_task_failure(client, consumer):
    image_id = _new_image(client)
    assert helpers.stage(client, image_id, DATA).status_code == 204
    response = helpers.import_image(client, image_id, method_extra={
        'validation_data': {'os_hash_algo': 'sha256',
                            'os_hash_value': '0' * 64}})
    assert response.status_code == 202, response.text
    task = helpers.wait_task(client, image_id)
    assert task['status'] == 'failure'
    [event] = consumer.wait_for('task.failure', id=task['id'])
    assert event['payload']['status'] == 'failure'
    assert event['payload']['message'] is None


def test_legacy_task_create(client, consumer):
    response = client.post('/v2/tasks', json={
        'type': 'import', 'input': {
            # Nobody listens there: the task fails.
            'import_from': 'http://127.0.0.1:80/nothing',
            'import_from_format': 'raw',
            'image_properties': {'name': 'legacy'}}})
    assert response.status_code == 201, response.text
    task_id = response.json()['id']
    [event] = consumer.wait_for('task.create', id=task_id)
    assert event['payload']['type'] == 'import'
    assert event['payload']['status'] == 'pending'
    consumer.wait_for('task.run', id=task_id)
    consumer.wait_for('task.processing', id=task_id)
    consumer.wait_for('task.failure', id=task_id)


# -- disabled_notifications and property protections -----------------------
# (this server names its broker in [DEFAULT] transport_url)

@pytest.fixture(scope='module')
def filtered(rabbit_url, tmp_path_factory):
    consumer = rabbit.Consumer(rabbit_url)
    path = tmp_path_factory.mktemp('notify-protections') / 'pp.conf'
    path.write_text(textwrap.dedent(PROTECTIONS))
    options = rabbit.server_options(
        rabbit_url, consumer.topic, url_in_default=True,
        disabled_notifications='image.member,task.*,image.update',
        property_protection_file=str(path))
    server = server_lib.start_or_skip('sqlite', options=options)
    yield server, consumer
    server.cleanup_in_background()
    consumer.close()


def test_disabled_notifications(filtered):
    server, consumer = filtered
    client = server.client('p1', roles='admin,member,reader')
    image_id = _new_image(client, visibility='shared')
    assert client.patch_image(image_id, [
        {'op': 'add', 'path': '/x_a', 'value': '1'}]).status_code == 200
    assert client.post('/v2/images/%s/members' % image_id,
                       json={'member': 'p2'}).status_code == 200
    assert helpers.stage(client, image_id, DATA).status_code == 204
    assert helpers.import_image(client, image_id).status_code == 202
    assert helpers.wait_task(client, image_id)['status'] == 'success'
    # Still sent: the types no entry names (the last events of the
    # sequence, so that everything before them went out too).
    consumer.wait_for('image.create', id=image_id)
    consumer.wait_for('image.activate', id=image_id)
    time.sleep(1)
    types = {e['event_type'] for e in consumer.events()}
    assert not types & {'image.update', 'image.member.create',
                        'task.create', 'task.run', 'task.processing',
                        'task.success'}, types
    assert 'image.prepare' in types and 'image.upload' in types
    client.close()


def test_protected_properties_not_in_payloads(filtered):
    server, consumer = filtered
    member = server.client('p1', roles='member,reader')
    admin = server.client('p1', roles='admin,member,reader')
    # A member may create x_secret_ but not read it.
    response = member.create_image(name='pp', disk_format='raw',
                                   container_format='bare',
                                   x_secret_code='s3cr3t', x_plain='p')
    assert response.status_code == 201, response.text
    image_id = response.json()['id']
    [event] = consumer.wait_for('image.create', id=image_id)
    assert event['payload']['properties'] == {'x_plain': 'p'}
    # The import runs as the service; its events carry what the member,
    # who asked for it, may read.
    assert helpers.stage(member, image_id, DATA).status_code == 204
    assert helpers.import_image(member, image_id).status_code == 202
    assert helpers.wait_task(member, image_id)['status'] == 'success'
    for event_type in ('image.prepare', 'image.upload', 'image.activate'):
        [event] = consumer.wait_for(event_type, id=image_id)
        assert 'x_secret_code' not in event['payload']['properties']
        assert event['payload']['properties']['x_plain'] == 'p'
    # The admin may read it, and its delete carries it.
    assert admin.delete('/v2/images/%s' % image_id).status_code == 204
    [event] = consumer.wait_for('image.delete', id=image_id)
    assert event['payload']['properties']['x_secret_code'] == 's3cr3t'
    assert 's3cr3t' not in repr([e for e in consumer.events()
                                 if e['event_type'] != 'image.delete'])
    member.close()
    admin.close()


# -- a broker that is away ---------------------------------------------------

class SilentBroker:
    """A port that accepts connections and never answers (a broker that
    hangs), then, once closed, a port nobody listens on."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self):
        self.listener.close()
        for conn in self.accepted:
            conn.close()


def _timed_requests(client, count=15):
    """Seconds of each request of a create, upload, download, delete
    cycle, repeated; every request must succeed."""
    timings = []
    for _ in range(count):
        started = time.monotonic()
        image_id = _new_image(client)
        _upload(client, image_id, b'd' * 4096)
        assert client.get('/v2/images/%s/file' % image_id).status_code \
            == 200
        assert client.delete('/v2/images/%s' % image_id).status_code == 204
        timings.append((time.monotonic() - started) / 4)
    return timings


def test_broker_away_never_slows_or_fails_requests(server, client,
                                                   rabbit_url):
    broker = SilentBroker()
    away = server_lib.start_or_skip('sqlite', options=rabbit.server_options(
        'rabbit://guest:guest@127.0.0.1:%d/' % broker.port, 'away'))
    try:
        away_client = away.client('p1', roles='admin,member,reader')
        baseline = statistics.median(_timed_requests(client))
        hanging = statistics.median(_timed_requests(away_client))
        assert broker.accepted, 'the server never tried the broker'
        broker.close()
        refused = statistics.median(_timed_requests(away_client))
        print('median seconds per request: broker up %.4f, broker '
              'hanging %.4f, port closed %.4f'
              % (baseline, hanging, refused))
        for measured in (hanging, refused):
            assert measured < baseline * 3 + 0.05, (baseline, hanging,
                                                    refused)
        # The failure is in the log (oslo.messaging's words, or ours
        # when the queue overflows).
        deadline = time.monotonic() + 30
        while True:
            log = away.log_text()
            if 'Connection refused' in log or 'dropped' in log:
                break
            assert time.monotonic() < deadline, log[-3000:]
            time.sleep(0.5)
        away_client.close()
    finally:
        broker.close()
        away.cleanup_in_background()


# -- multiple stores ---------------------------------------------------------

def test_multistore_upload_and_copy_image(rabbit_url):
    consumer = rabbit.Consumer(rabbit_url)
    options = rabbit.server_options(
        rabbit_url, consumer.topic, enabled_backends='fast:file,cheap:file')
    options['glance_store'] = {'default_backend': 'fast'}
    server = server_lib.start_or_skip('sqlite', options=options)
    try:
        client = server.client('p1', roles='admin,member,reader')
        image_id = _new_image(client)
        response = client.put('/v2/images/%s/file' % image_id, data=DATA,
                              headers=dict(OCTET,
                                           **{'X-Image-Meta-Store':
                                              'cheap'}))
        assert response.status_code == 204, response.text
        [prepare] = consumer.wait_for('image.prepare', id=image_id)
        assert prepare['payload']['backend'] == 'cheap'
        consumer.wait_for('image.activate', id=image_id)

        response = helpers.import_image(client, image_id, 'copy-image',
                                        stores=['fast'])
        assert response.status_code == 202, response.text
        task = helpers.wait_task(client, image_id)
        assert task['status'] == 'success', task
        consumer.wait_for('task.success', id=task['id'])
        [prepare] = consumer.wait_for('image.prepare', id=image_id,
                                      backend='fast')
        assert prepare['payload']['status'] == 'active'
        assert prepare['payload']['os_glance_importing_to_stores'] \
            == ['fast']
        [_, upload] = consumer.wait_for('image.upload', id=image_id,
                                        count=2)
        assert upload['payload']['os_glance_importing_to_stores'] == []
        # The image was active already: no second image.activate.
        assert len(consumer.wait_for('image.activate', id=image_id)) == 1
        client.close()
    finally:
        server.cleanup_in_background()
        consumer.close()
