"""delayed_delete and glance-scrubber against a real glance-api process.

With delayed_delete a deleted image is gone for users at once (404), but
its data stays in the store until `glance-scrubber --config-file F`
removes it, and only once the image was deleted more than scrub_time
seconds ago.
"""

import os
import random
import subprocess
import sys
import time

import pytest

from glance.tests.functional import server as server_lib

OCTET = {'Content-Type': 'application/octet-stream'}
SCRUB_TIME = 3

SERVER_OPTIONS = {'DEFAULT': {'delayed_delete': True, 'scrub_time': 0}}


def scrubber_command():
    script = os.path.join(os.path.dirname(sys.executable), 'glance-scrubber')
    if os.path.exists(script):
        return [script]
    return [sys.executable, '-m', 'glance.cmd.scrubber']


def run_scrubber(server, *extra_config, args=()):
    command = scrubber_command() + ['--config-file', server.config_path]
    for path in extra_config:
        command += ['--config-file', path]
    result = subprocess.run(command + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            timeout=120, cwd=server.directory)
    assert result.returncode == 0, result.stdout
    return result.stdout


def extra_config(server, name, text):
    path = os.path.join(server.directory, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def data_of(size, seed=0):
    return random.Random(seed).randbytes(size)


def new_active_image(client, data, store=None):
    response = client.create_image(name='scrub', disk_format='raw',
                                   container_format='bare')
    assert response.status_code == 201, response.text
    image_id = response.json()['id']
    headers = dict(OCTET)
    if store:
        headers['X-Image-Meta-Store'] = store
    response = client.put('/v2/images/%s/file' % image_id, data=data,
                          headers=headers)
    assert response.status_code == 204, response.text
    return image_id


def data_file(server, image_id, store=None):
    parts = [server.state_path, 'images'] + ([store] if store else [])
    return os.path.join(*(parts + [image_id]))


@pytest.fixture
def client(api_server):
    c = api_server.client(project_id='scrub-project', roles='member,reader')
    yield c
    c.close()


def test_delete_hides_the_image_and_keeps_the_data(api_server, client):
    data = data_of(200000)
    image_id = new_active_image(client, data)
    path = data_file(api_server, image_id)
    # One whose data is already gone by the time the scrubber comes.
    lost_id = new_active_image(client, data_of(100, seed=6))
    # One that was never uploaded: deleted at once, nothing to scrub.
    response = client.create_image(name='never-uploaded',
                                   disk_format='raw',
                                   container_format='bare')
    queued_id = response.json()['id']
    for i in (image_id, lost_id, queued_id):
        assert client.delete('/v2/images/%s' % i).status_code == 204
    # Gone for users...
    for i in (image_id, lost_id, queued_id):
        assert client.get('/v2/images/%s' % i).status_code == 404
    assert client.get('/v2/images/%s/file' % image_id).status_code == 404
    assert client.delete('/v2/images/%s' % image_id).status_code == 404
    listed = client.get('/v2/images').json()['images']
    assert image_id not in [i['id'] for i in listed]
    admin = api_server.client()
    assert admin.get('/v2/images/%s' % image_id).status_code == 404
    admin.close()
    # ...but the data waits for the scrubber.
    with open(path, 'rb') as f:
        assert f.read() == data
    os.unlink(data_file(api_server, lost_id))
    output = run_scrubber(api_server)
    assert not os.path.exists(path)
    assert 'Traceback' not in output
    assert 'Scrubbed image %s' % image_id in output
    assert 'Scrubbed image %s' % lost_id in output
    assert client.get('/v2/images/%s' % image_id).status_code == 404
    # Nothing left to do: a second run is a no-op.
    output = run_scrubber(api_server)
    assert 'Scrubbed image' not in output


def test_scrub_time_is_respected(api_server, client):
    hour = extra_config(api_server, 'scrub-hour.conf',
                        '[DEFAULT]\nscrub_time = 3600\n')
    soon = extra_config(api_server, 'scrub-soon.conf',
                        '[DEFAULT]\nscrub_time = %d\n' % SCRUB_TIME)
    image_id = new_active_image(client, data_of(1000, seed=1))
    path = data_file(api_server, image_id)
    assert client.delete('/v2/images/%s' % image_id).status_code == 204
    deleted_at = time.monotonic()
    # Deleted less than an hour ago: kept.
    output = run_scrubber(api_server, hour)
    assert os.path.exists(path)
    assert 'Scrubbed image %s' % image_id not in output
    # Deleted more than SCRUB_TIME seconds ago: removed.
    time.sleep(max(0, SCRUB_TIME + 0.5 - (time.monotonic() - deleted_at)))
    output = run_scrubber(api_server, soon)
    assert not os.path.exists(path)
    assert 'Scrubbed image %s' % image_id in output


def test_scrubber_daemon(api_server, client):
    fast = extra_config(api_server, 'scrub-daemon.conf',
                        '[DEFAULT]\nwakeup_time = 1\n')
    command = scrubber_command() + ['--config-file', api_server.config_path,
                                    '--config-file', fast, '--daemon']
    log = open(os.path.join(api_server.directory, 'scrubber.log'), 'wb')
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               cwd=api_server.directory)
    try:
        image_id = new_active_image(client, data_of(1000, seed=2))
        path = data_file(api_server, image_id)
        assert client.delete('/v2/images/%s' % image_id).status_code == 204
        deadline = time.monotonic() + 20
        while os.path.exists(path) and time.monotonic() < deadline:
            assert process.poll() is None
            time.sleep(0.1)
        assert not os.path.exists(path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_protected_image_is_not_deleted(api_server, client):
    data = data_of(100)
    image_id = new_active_image(client, data)
    ops = [{'op': 'replace', 'path': '/protected', 'value': True}]
    assert client.patch_image(image_id, ops).status_code == 200
    assert client.delete('/v2/images/%s' % image_id).status_code == 403
    assert client.get('/v2/images/%s/file' % image_id).content == data


@pytest.fixture(scope='module')
def multistore_server():
    server = server_lib.start_or_skip('sqlite', options={
        'DEFAULT': {'enabled_backends': 'fast:file,cheap:file',
                    'delayed_delete': True},
        'glance_store': {'default_backend': 'fast'},
        'fast': {'weight': 100},
        'cheap': {'weight': 10},
    })
    yield server
    server.cleanup()


def test_multistore_scrub(multistore_server):
    server = multistore_server
    client = server.client()
    data = data_of(3000, seed=5)
    image_id = new_active_image(client, data, store='cheap')
    path = data_file(server, image_id, 'cheap')
    assert os.path.exists(path)
    assert client.delete('/v2/images/%s' % image_id).status_code == 204
    assert client.get('/v2/images/%s' % image_id).status_code == 404
    assert os.path.exists(path)
    run_scrubber(server)
    assert not os.path.exists(path)
    assert os.listdir(os.path.join(server.state_path, 'images', 'fast')) \
        == []
    client.close()
