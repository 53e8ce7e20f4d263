"""kill -9 of glance-api in the middle of image data work loses nothing.

Each round starts, at once, an upload that is half sent, a stage that is
half sent, a web-download import that is fetching a slow source, and an
upload whose last byte has just gone out, then SIGKILLs the whole server
(master and workers) up to a second after that last byte, and restarts
it. After every round nothing may be:

* stuck: no image in saving, uploading or importing, no task pending or
  processing;
* orphaned: no file in the store or the staging area that no active
  image owns;
* corrupt: every active image's data matches its checksum and hash;
* undeletable: every image can be deleted, and then no file is left.
"""

import hashlib
import os
import random
import socket
import threading
import time

import pytest

from glance.tests.functional import import_helpers as h
from glance.tests.functional import server as server_lib

MiB = h.MiB
ROUNDS = 3
STUCK = ('saving', 'uploading', 'importing')


@pytest.fixture(scope='module')
def server():
    server = server_lib.start_or_skip('sqlite', options={
        'DEFAULT': {'enabled_backends': 'fast:file'},
        'glance_store': {'default_backend': 'fast'},
        'import_filtering_opts': {'allowed_hosts': '127.0.0.1',
                                  'allowed_ports': ''},
    })
    yield server
    server.cleanup_in_background()


@pytest.fixture(scope='module')
def web():
    web = h.WebServer()
    web.files['/slow.raw'] = random.Random(7).randbytes(4 * MiB)
    yield web
    web.stop()


def _half_sent(server, image_id, kind, total):
    """A raw connection with the head and half of a body of total bytes
    sent; returns the socket once the server has taken the data."""
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(('PUT /v2/images/%s/%s HTTP/1.1\r\nHost: x\r\n'
                  'X-Project-Id: p1\r\nX-Roles: member,reader\r\n'
                  'Content-Type: application/octet-stream\r\n'
                  'Content-Length: %d\r\n\r\n'
                  % (image_id, kind, total)).encode('ascii'))
    sock.sendall(b'h' * (total // 2))
    return sock


def _full_upload(server, image_id, data, sent):
    """Send a whole upload on a raw connection; set sent after the last
    byte (the response may never come)."""
    sock = socket.create_connection((server.host, server.port), timeout=10)
    try:
        sock.sendall(('PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n'
                      'X-Project-Id: p1\r\nX-Roles: member,reader\r\n'
                      'Content-Type: application/octet-stream\r\n'
                      'Content-Length: %d\r\n\r\n'
                      % (image_id, len(data))).encode('ascii'))
        sock.sendall(data)
        sent.set()
        try:
            sock.recv(1024)
        except OSError:
            pass
    finally:
        sock.close()


def _one_round(server, web, client, rng):
    images = {}
    upload = h.create_image(client, name='mid-upload')
    stage = h.create_image(client, name='mid-stage')
    imported = h.create_image(client, name='mid-import')
    last_byte = h.create_image(client, name='after-last-byte')
    full_data = rng.randbytes(2 * MiB)
    images[last_byte['id']] = full_data

    sockets = [_half_sent(server, upload['id'], 'file', 8 * MiB),
               _half_sent(server, stage['id'], 'stage', 8 * MiB)]
    response = h.import_image(
        client, imported['id'], 'web-download',
        method_extra={'uri': web.url('/slow/slow.raw?seconds=20')})
    assert response.status_code == 202, response.text
    h.wait_status(client, upload['id'], 'saving', timeout=10)
    h.wait_status(client, stage['id'], 'uploading', timeout=10)
    h.wait_status(client, imported['id'], 'importing', timeout=10)

    sent = threading.Event()
    sender = threading.Thread(target=_full_upload, daemon=True,
                              args=(server, last_byte['id'], full_data,
                                    sent))
    sender.start()
    assert sent.wait(10)
    time.sleep(rng.uniform(0, 1))
    server.kill()
    for sock in sockets:
        sock.close()
    sender.join(10)
    server.restart()
    return [upload['id'], stage['id'], imported['id'], last_byte['id']], \
        images


def _files(server):
    found = []
    for sub in ('images', 'staging'):
        for root, _dirs, names in os.walk(os.path.join(server.state_path,
                                                       sub)):
            found += [os.path.join(root, n) for n in names]
    return found


def _check_nothing_stuck(client, server, image_ids, sent_data,
                         active_before):
    deadline = time.monotonic() + 20
    while True:
        shown = {i: h.show(client, i) for i in image_ids}
        busy = {i: s['status'] for i, s in shown.items()
                if s['status'] in STUCK}
        tasks = [t for i in image_ids for t in h.tasks_of(client, i)
                 if t['status'] in ('pending', 'processing')]
        if not busy and not tasks:
            break
        assert time.monotonic() < deadline, \
            'stuck after restart: %s %s' % (busy, tasks)
        time.sleep(0.1)

    active = [i for i, s in shown.items() if s['status'] == 'active']
    assert set(s['status'] for s in shown.values()) <= {'queued', 'active'}
    for image_id in active:
        response = client.get('/v2/images/%s/file' % image_id)
        assert response.status_code == 200
        data = response.content
        image = shown[image_id]
        assert hashlib.md5(data).hexdigest() == image['checksum']
        assert hashlib.new(image['os_hash_algo'], data).hexdigest() == \
            image['os_hash_value']
        assert len(data) == image['size']
        if image_id in sent_data:
            assert data == sent_data[image_id]

    # Every file left belongs to an active image, of this round or an
    # earlier one.
    active_before.update(active)
    for path in _files(server):
        name = os.path.basename(path)
        assert any(name.startswith(i) for i in active_before), \
            'orphaned file %s of %s' % (
                path, client.get('/v2/images/%s' % name[:36]).text)


def test_kill_nine_leaves_nothing_stuck(server, web):
    client = server.client(project_id='p1', roles='member,reader')
    rng = random.Random(2026)
    all_ids, active = [], set()
    for _ in range(ROUNDS):
        image_ids, sent_data = _one_round(server, web, client, rng)
        all_ids += image_ids
        _check_nothing_stuck(client, server, image_ids, sent_data, active)

    for image_id in all_ids:
        response = client.delete('/v2/images/%s' % image_id)
        assert response.status_code == 204, response.text
    assert _files(server) == []
    client.close()
