"""Import with the default configuration, through real clients.

One store, the staging area at its default place, the reference's
filtering plus our refusal of special-purpose addresses: every way of
naming loopback, private or link-local addresses gets 400 at the import
call, with no task and the image still queued. python-glanceclient
(Python API and the ``glance`` shell) and openstacksdk import through
glance-direct, unmodified.
"""

import hashlib
import os
import random
import subprocess
import sys

import pytest

from glance.tests.functional import import_helpers as h
from glance.tests.functional import server as server_lib

MiB = h.MiB


@pytest.fixture(scope='module')
def server():
    server = server_lib.start_or_skip('sqlite')
    yield server
    server.cleanup_in_background()


@pytest.fixture(scope='module')
def web():
    web = h.WebServer()
    web.files['/img.raw'] = b'x' * 1000
    yield web
    web.stop()


@pytest.fixture
def member(server):
    client = server.client(project_id='p1', roles='member,reader')
    yield client
    client.close()


def refused_uris(port):
    return [
        'http://127.0.0.1:%d/img.raw' % port,       # a live local server
        'http://127.0.0.1/img.raw',
        'http://localhost/img.raw',
        'http://127.1/img.raw',
        'http://2130706433/img.raw',
        'http://0x7f000001/img.raw',
        'http://0x7f.0.0.1/img.raw',
        'http://0177.0.0.1/img.raw',
        'http://[::1]/img.raw',
        'http://[::ffff:127.0.0.1]/img.raw',
        'http://[::ffff:7f00:1]/img.raw',
        'http://0.0.0.0/img.raw',
        'http://10.0.0.1/img.raw',
        'http://172.16.0.1/img.raw',
        'http://192.168.0.1/img.raw',
        'http://169.254.169.254/latest/meta-data/',
        'http://[fe80::1]/img.raw',
        'http://[fd00::1]/img.raw',
        'http://100.64.0.1/img.raw',
        'ftp://127.0.0.1/img.raw',
        'file:///etc/passwd',
        'http://93.184.216.34:8080/img.raw',         # port not allowed
        'http://user:pw@93.184.216.34/img.raw',
    ]


def test_refused_uris_with_default_config(member, web):
    image = h.create_image(member)
    for uri in refused_uris(web.port):
        response = h.import_image(member, image['id'], 'web-download',
                                  method_extra={'uri': uri})
        assert response.status_code == 400, (uri, response.text)
        assert 'does not pass filtering' in response.json()['message'], uri
    image = h.show(member, image['id'])
    assert image['status'] == 'queued'
    assert h.tasks_of(member, image['id']) == []
    assert web.requests == []


def test_single_store_glance_direct(server, member):
    data = random.Random(1).randbytes(MiB)
    image = h.create_image(member)
    assert h.stage(member, image['id'], data).status_code == 204
    assert os.path.exists(os.path.join(server.state_path, 'staging',
                                       image['id']))
    assert h.import_image(member, image['id']).status_code == 202
    image = h.wait_status(member, image['id'], 'active')
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    assert 'stores' not in image
    assert 'os_glance_failed_import' not in image
    # Stores cannot be chosen with a single store.
    other = h.create_image(member)
    assert h.stage(member, other['id'], data).status_code == 204
    assert h.import_image(member, other['id'],
                          stores=['fast']).status_code == 400


# -- python-glanceclient -------------------------------------------------

def _glanceclient(server):
    from glanceclient import client
    return client.Client('2', endpoint=server.url, token='no-auth')


def test_glanceclient_api(server, tmp_path):
    glance = _glanceclient(server)
    data = random.Random(2).randbytes(3 * MiB)
    image = glance.images.create(name='gc-import', disk_format='raw',
                                 container_format='bare')
    path = tmp_path / 'data.raw'
    path.write_bytes(data)
    with open(path, 'rb') as f:
        glance.images.stage(image['id'], f, image_size=len(data))
    assert glance.images.get(image['id'])['status'] == 'uploading'
    glance.images.image_import(image['id'], 'glance-direct')
    client = server.client()
    active = h.wait_status(client, image['id'], 'active')
    assert active['checksum'] == hashlib.md5(data).hexdigest()
    tasks = glance.images.get_import_info()
    assert 'glance-direct' in tasks['import-methods']['value']

    from glanceclient import exc
    queued = glance.images.create(name='gc-refused', disk_format='raw',
                                  container_format='bare')
    with pytest.raises(exc.HTTPBadRequest):
        glance.images.image_import(queued['id'], 'web-download',
                                   uri='http://169.254.169.254/')


def test_glance_shell_image_create_via_import(server, tmp_path):
    data = random.Random(3).randbytes(MiB + 1)
    path = tmp_path / 'shell.raw'
    path.write_bytes(data)
    glance = os.path.join(os.path.dirname(sys.executable), 'glance')
    # The data on standard input, as in "glance ... < shell.raw".
    with open(path, 'rb') as stdin:
        result = subprocess.run(
            [glance, '--os-image-url', server.url,
             '--os-auth-token', 'no-auth', 'image-create-via-import',
             '--name', 'shell-import', '--disk-format', 'raw',
             '--container-format', 'bare',
             '--import-method', 'glance-direct'],
            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=120, env=dict(os.environ, OS_AUTH_URL=''))
    assert result.returncode == 0, result.stdout
    client = server.client()
    images = client.get('/v2/images?name=shell-import').json()['images']
    assert len(images) == 1
    image = h.wait_status(client, images[0]['id'], 'active')
    assert image['checksum'] == hashlib.md5(data).hexdigest()

    # image-stage and image-import, one after the other.
    image = h.create_image(client, name='shell-stage')
    for command in (['image-stage', '--file', str(path), image['id']],
                    ['image-import', '--import-method', 'glance-direct',
                     image['id']]):
        result = subprocess.run(
            [glance, '--os-image-url', server.url,
             '--os-auth-token', 'no-auth'] + command,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, timeout=120)
        assert result.returncode == 0, result.stdout
    image = h.wait_status(client, image['id'], 'active')
    assert image['checksum'] == hashlib.md5(data).hexdigest()


# -- openstacksdk --------------------------------------------------------

def _sdk(server):
    from keystoneauth1 import noauth
    from keystoneauth1 import session
    import openstack
    return openstack.connection.Connection(
        session=session.Session(auth=noauth.NoAuth(endpoint=server.url)),
        image_endpoint_override=server.url, image_api_version='2')


def test_openstacksdk(server, tmp_path):
    conn = _sdk(server)
    data = random.Random(4).randbytes(2 * MiB)
    path = tmp_path / 'sdk.raw'
    path.write_bytes(data)
    image = conn.create_image('sdk-import', filename=str(path),
                              disk_format='raw', container_format='bare',
                              use_import=True, wait=True, timeout=60)
    # The SDK's wait ends at the first status past queued/saving.
    assert image.status in ('importing', 'active')
    image = h.wait_status(server.client(), image.id, 'active')
    assert image['checksum'] == hashlib.md5(data).hexdigest()

    staged = conn.image.create_image(name='sdk-stage', disk_format='raw',
                                     container_format='bare')
    conn.image.stage_image(staged, data=data)
    conn.image.import_image(staged, method='glance-direct')
    client = server.client()
    assert h.wait_status(client, staged.id, 'active')['size'] == len(data)

    queued = conn.image.create_image(name='sdk-refused', disk_format='raw',
                                     container_format='bare')
    # The SDK hands back the response of the import call as it is.
    response = conn.image.import_image(queued, method='web-download',
                                       uri='http://[::1]/img.raw')
    assert response.status_code == 400
    assert conn.image.get_image(queued.id).status == 'queued'
