"""The keystone+cache flavor against a real Keystone: cached downloads
with tokens, and the cache API for admins only (a member gets 403)."""

import os
import time

import pytest

from glance.tests.functional import keystone_fixture
from glance.tests.functional import server as server_lib
from glance.tests.functional import test_keystone

USERS = {
    'glance': ('service', 'service'),
    'gamma-admin': ('gamma', 'admin'),
    'gamma-member': ('gamma', 'member'),
}
DATA = os.urandom(2 * 1024 * 1024 + 3)


@pytest.fixture(scope='module')
def cloud():
    keystone = keystone_fixture.start_or_skip()
    glance = None
    try:
        for user, (project, role) in USERS.items():
            keystone.create_user(user, project, role)
        port = server_lib.free_port()
        keystone.register_image_endpoint('http://127.0.0.1:%d' % port)
        glance = server_lib.Server('sqlite', port=port)
        glance.prepare()
        glance.options = {
            'DEFAULT': {'image_cache_dir': os.path.join(glance.directory,
                                                        'cache')},
            'paste_deploy': {'flavor': 'keystone+cachemanagement'},
            'keystone_authtoken': keystone.authtoken_options(),
        }
        glance._write_config()
        glance.start()
        yield test_keystone.Cloud(keystone, glance)
    finally:
        if glance is not None:
            glance.cleanup()
        keystone.cleanup()


def test_cached_download_and_cache_api_with_tokens(cloud):
    response = cloud.call('gamma-member', 'POST', '/v2/images', json={
        'name': 'ks-cache', 'disk_format': 'raw',
        'container_format': 'bare'})
    assert response.status_code == 201, response.text
    image_id = response.json()['id']
    response = cloud.call('gamma-member', 'PUT',
                          '/v2/images/%s/file' % image_id, data=DATA,
                          headers={'Content-Type':
                                   'application/octet-stream'})
    assert response.status_code == 204
    path = '/v2/images/%s/file' % image_id
    assert cloud.call('gamma-member', 'GET', path).content == DATA
    # Without a token: 401, cached or not.
    assert cloud.call(None, 'GET', path).status_code == 401
    assert cloud.call(None, 'GET', '/v2/cache').status_code == 401
    for method, call_path in [('GET', '/v2/cache'),
                              ('PUT', '/v2/cache/%s' % image_id),
                              ('DELETE', '/v2/cache/%s' % image_id),
                              ('DELETE', '/v2/cache'),
                              ('GET', '/v2/cached_images')]:
        response = cloud.call('gamma-member', method, call_path)
        assert response.status_code == 403, (method, call_path)
    listed = cloud.call('gamma-admin', 'GET', '/v2/cache')
    assert listed.status_code == 200
    cached = [e['image_id'] for e in listed.json()['cached_images']]
    if image_id not in cached:
        # The verification runs behind the first download.
        deadline = time.monotonic() + 30
        while image_id not in cached and time.monotonic() < deadline:
            time.sleep(0.1)
            cached = [e['image_id'] for e in cloud.call(
                'gamma-admin', 'GET', '/v2/cache').json()['cached_images']]
    assert image_id in cached
    os.unlink(os.path.join(cloud.glance.state_path, 'images', image_id))
    assert cloud.call('gamma-member', 'GET', path).content == DATA
    versions = cloud.call(None, 'GET', '/versions').json()['versions']
    assert versions[0] == {'id': 'v2.18', 'status': 'CURRENT',
                           'links': versions[0]['links']}
