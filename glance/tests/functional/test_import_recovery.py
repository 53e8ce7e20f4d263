"""An import whose glance-api dies is never left stuck.

The server is killed (SIGKILL to its whole process group) while a
web-download import is fetching a slow source; the restarted server
finds the orphaned task, fails it with a reason, returns the image to
queued with its store in os_glance_failed_import, and removes the
staged and half-written data. A stage cut short the same way returns
its image to queued.
"""

import random
import socket
import threading
import time

import pytest

from glance.tests.functional import import_helpers as h
from glance.tests.functional import server as server_lib

MiB = h.MiB


@pytest.fixture(scope='module')
def server():
    server = server_lib.start_or_skip('sqlite', options={
        'DEFAULT': {'enabled_backends': 'fast:file,cheap:file'},
        'glance_store': {'default_backend': 'fast'},
        'import_filtering_opts': {'allowed_hosts': '127.0.0.1',
                                  'allowed_ports': ''},
    })
    yield server
    server.cleanup_in_background()


@pytest.fixture(scope='module')
def web():
    web = h.WebServer()
    yield web
    web.stop()


def _wait_processing(client, image_id):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        tasks = h.tasks_of(client, image_id)
        if tasks and tasks[0]['status'] == 'processing' and \
                tasks[0]['message'].startswith('Downloaded'):
            return tasks[0]
        time.sleep(0.05)
    raise AssertionError('the import did not start')


def test_killed_during_import(server, web):
    client = server.client(project_id='p1', roles='member,reader')
    web.files['/big.raw'] = random.Random(1).randbytes(8 * MiB)
    image = h.create_image(client)
    response = h.import_image(
        client, image['id'], 'web-download', stores=['fast', 'cheap'],
        method_extra={'uri': web.url('/slow/big.raw?seconds=30')})
    assert response.status_code == 202
    task = _wait_processing(client, image['id'])
    assert h.show(client, image['id'])['status'] == 'importing'
    assert h.staging_files(server, image['id'])

    server.kill()
    server.restart()

    task = h.tasks_of(client, image['id'])[0]
    assert task['status'] == 'failure'
    assert 'interrupted' in task['message']
    assert task['expires_at']
    image = h.show(client, image['id'])
    assert image['status'] == 'queued'
    assert image['os_glance_failed_import'] == 'fast,cheap'
    assert image['os_glance_importing_to_stores'] == ''
    assert 'os_glance_import_task' not in image
    assert h.staging_files(server, image['id']) == []
    assert h.store_files(server, image['id']) == []

    # It imports fine afterwards.
    web.files['/small.raw'] = b'small' * 1000
    response = h.import_image(client, image['id'], 'web-download',
                              method_extra={'uri': web.url('/small.raw')})
    assert response.status_code == 202, response.text
    assert h.wait_status(client, image['id'], 'active')


def test_killed_during_stage(server):
    client = server.client(project_id='p1', roles='member,reader')
    image = h.create_image(client)
    sock = socket.create_connection((server.host, server.port))
    sent = threading.Event()

    def slow_stage():
        sock.sendall(('PUT /v2/images/%s/stage HTTP/1.1\r\nHost: x\r\n'
                      'X-Project-Id: p1\r\nX-Roles: member,reader\r\n'
                      'Content-Type: application/octet-stream\r\n'
                      'Content-Length: %d\r\n\r\n'
                      % (image['id'], 10 * MiB)).encode())
        sock.sendall(b'x' * MiB)
        sent.set()

    threading.Thread(target=slow_stage, daemon=True).start()
    assert sent.wait(10)
    h.wait_status(client, image['id'], 'uploading')
    server.kill()
    sock.close()
    server.restart()
    assert h.show(client, image['id'])['status'] == 'queued'
    assert h.staging_files(server, image['id']) == []
