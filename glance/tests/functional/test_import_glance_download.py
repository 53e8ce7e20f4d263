"""glance-download: an image copied from another region's image service.

A second glance-api of our own stands in for the other region. First
without Keystone: the caller sends a minimal service catalog (the
X-Service-Catalog header, as keystonemiddleware would set it) naming the
other server as region R2's image endpoint. Then with a real Keystone:
the catalog of a real token has RegionOne (the importing server) and
RegionTwo (the other one), both servers validate tokens with
keystonemiddleware, and openstacksdk starts the import.
"""

import hashlib
import json
import random
import uuid

import pytest
import requests

from glance.tests.functional import import_helpers as h
from glance.tests.functional import server as server_lib

MiB = h.MiB
METHODS = 'glance-direct,web-download,copy-image,glance-download'


def catalog(region, url):
    return json.dumps([{'type': 'image', 'name': 'glance', 'endpoints': [{
        'region': region, 'publicURL': url, 'internalURL': url,
        'adminURL': url}]}])


@pytest.fixture(scope='module')
def regions():
    remote = server_lib.start_or_skip('sqlite')
    try:
        local = server_lib.start_or_skip('sqlite', options={
            'DEFAULT': {'enabled_import_methods': METHODS}})
    except BaseException:
        remote.cleanup_in_background()
        raise
    yield local, remote
    local.cleanup_in_background()
    remote.cleanup_in_background()


def _remote_image(remote, data, **values):
    client = remote.client()
    image = h.create_image(client, **values)
    response = client.put('/v2/images/%s/file' % image['id'], data=data,
                          headers=h.OCTET)
    assert response.status_code == 204, response.text
    return h.show(client, image['id'])


def test_glance_download_with_a_catalog_header(regions):
    local, remote = regions
    data = random.Random(1).randbytes(2 * MiB)
    source = _remote_image(remote, data, disk_format='raw',
                           container_format='bare', min_ram=64,
                           hw_disk_bus='scsi', os_distro='cirros',
                           not_copied='x')
    client = local.client(project_id='p1', roles='member,reader')
    headers = {'X-Service-Catalog': catalog('R2', remote.url),
               'X-Auth-Token': 'token-of-the-caller'}
    # The reference asks for both formats before any import (409
    # otherwise), glance-download included.
    image = h.create_image(client, disk_format='raw', container_format='bare')
    response = h.import_image(client, image['id'], 'glance-download',
                              headers=headers, method_extra={
                                  'glance_image_id': source['id'],
                                  'glance_region': 'R2'})
    assert response.status_code == 202, response.text
    task = h.wait_task(client, image['id'])
    assert task['status'] == 'success', task
    image = h.show(client, image['id'])
    assert image['status'] == 'active'
    assert image['checksum'] == source['checksum']
    assert image['os_hash_value'] == source['os_hash_value']
    assert image['disk_format'] == 'raw'
    assert image['container_format'] == 'bare'
    assert image['min_ram'] == 64
    assert image['hw_disk_bus'] == 'scsi'
    assert image['os_distro'] == 'cirros'
    assert 'not_copied' not in image
    assert client.get('/v2/images/%s/file' % image['id']).content == data


def test_glance_download_refusals(regions):
    local, remote = regions
    client = local.client(project_id='p1', roles='member,reader')
    image = h.create_image(client)
    method = {'glance_image_id': str(uuid.uuid4()), 'glance_region': 'R2'}
    # No catalog: 400 at once.
    assert h.import_image(client, image['id'], 'glance-download',
                          method_extra=method).status_code == 400
    # An id that is no UUID: 400 at once, in the reference's words.
    response = h.import_image(client, image['id'], 'glance-download',
                              headers={'X-Service-Catalog':
                                       catalog('R2', remote.url)},
                              method_extra={'glance_image_id': 'foo',
                                            'glance_region': 'R2'})
    assert response.status_code == 400
    assert 'image id does not look like a UUID' in \
        response.json()['message']
    assert h.tasks_of(client, image['id']) == []
    # An unknown region or interface: accepted, as in the reference; the
    # task fails and the image is queued again, its properties kept.
    assert client.patch('/v2/images/%s' % image['id'], [
        {'op': 'add', 'path': '/os_distro', 'value': 'windows'}
    ]).status_code == 200
    response = h.import_image(client, image['id'], 'glance-download',
                              headers={'X-Service-Catalog':
                                       catalog('R3', remote.url)},
                              method_extra=dict(
                                  method,
                                  glance_service_interface='not one'))
    assert response.status_code == 202
    task = h.wait_task(client, image['id'])
    assert task['status'] == 'failure'
    assert 'region R2' in task['message']
    image = h.show(client, image['id'])
    assert image['status'] == 'queued'
    assert image['os_distro'] == 'windows'
    # A remote image that does not exist: the task fails, image queued.
    response = h.import_image(client, image['id'], 'glance-download',
                              headers={'X-Service-Catalog':
                                       catalog('R2', remote.url)},
                              method_extra=method)
    assert response.status_code == 202
    task = h.wait_task(client, image['id'])
    assert task['status'] == 'failure'
    assert '404' in task['message']
    image = h.show(client, image['id'])
    assert image['status'] == 'queued'


# -- with a real Keystone ------------------------------------------------

@pytest.fixture(scope='module')
def cloud():
    from glance.tests.functional import keystone_fixture

    keystone = keystone_fixture.start_or_skip()
    servers = []
    try:
        keystone.create_user('glance', 'service', 'service')
        keystone.create_user('alice', 'alpha', 'member')
        local_port = server_lib.free_port()
        keystone.register_image_endpoint('http://127.0.0.1:%d' % local_port)
        remote = server_lib.Server('sqlite', options={
            'paste_deploy': {'flavor': 'keystone'},
            'keystone_authtoken': keystone.authtoken_options()})
        servers.append(remote)
        remote.start()
        keystone._admin('POST', '/regions', json={'region': {
            'id': 'RegionTwo'}})
        services = keystone._admin('GET', '/services?type=image')
        service_id = services['services'][0]['id']
        for interface in ('public', 'internal', 'admin'):
            keystone._admin('POST', '/endpoints', json={'endpoint': {
                'service_id': service_id, 'interface': interface,
                'url': remote.url, 'region_id': 'RegionTwo'}})
        local = server_lib.Server('sqlite', port=local_port, options={
            'DEFAULT': {'enabled_import_methods': METHODS},
            'paste_deploy': {'flavor': 'keystone'},
            'keystone_authtoken': keystone.authtoken_options()})
        servers.append(local)
        local.start()
        yield keystone, local, remote
    finally:
        for server in servers:
            server.cleanup_in_background()
        keystone.cleanup()


def test_glance_download_through_keystone(cloud):
    from keystoneauth1 import identity
    from keystoneauth1 import session
    import openstack

    keystone, local, remote = cloud
    sess = session.Session(auth=identity.Password(
        **keystone.auth_kwargs('alice')))
    remote_conn = openstack.connection.Connection(
        session=sess, region_name='RegionTwo', image_api_version='2')
    local_conn = openstack.connection.Connection(
        session=sess, region_name='RegionOne', image_api_version='2')
    data = random.Random(2).randbytes(MiB)
    source = remote_conn.image.create_image(
        name='in-region-two', disk_format='raw', container_format='bare',
        os_type='linux')
    response = requests.put(
        '%s/v2/images/%s/file' % (remote.url, source.id), data=data,
        headers={'Content-Type': 'application/octet-stream',
                 'X-Auth-Token': sess.get_token()}, timeout=60)
    assert response.status_code == 204, response.text

    image = local_conn.image.create_image(name='from-region-two')
    # openstacksdk 4.22 only sends the region and the image id when an
    # interface is given too.
    response = local_conn.image.import_image(
        image, method='glance-download', remote_region='RegionTwo',
        remote_image_id=source.id, remote_service_interface='public')
    assert response.status_code == 202, response.text
    local_conn.image.wait_for_status(image, 'active', failures=['queued'],
                                     interval=0.2, wait=60)
    image = local_conn.image.get_image(image.id)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert image.disk_format == 'raw'
    assert image.properties.get('os_type') == 'linux' or \
        getattr(image, 'os_type', None) == 'linux'
