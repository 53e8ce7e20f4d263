"""Unified limits against a real Keystone.

glance-api runs with ``use_keystone_limits = true`` and ``[oslo_limit]``
pointing at the Keystone of keystone_fixture.py, as the service user
``glance`` with the reader role on the system (what oslo.limit needs to
read limits and the catalog). The registered limits and each project's
limits are created through Keystone's API; each test works in a project
of its own, so that its usage starts at zero.

Skipped (with the reason) only when Keystone cannot be installed here and
GLANCE_TEST_REQUIRE_ALL_DBS is not set.
"""

import concurrent.futures
import os
import uuid

import pytest
import requests

from glance.tests.functional import keystone_fixture
from glance.tests.functional import server as server_lib

MiB = 1024 * 1024
OCTET = {'Content-Type': 'application/octet-stream'}
# Registered limits (every project's defaults): generous, so that each
# test's project limits are what it hits.
DEFAULTS = {
    'image_size_total': 1000,
    'image_stage_total': 1000,
    'image_count_total': 100,
    'image_count_uploading': 100,
}


class Limits:
    """Registered and project limits of the image service, in Keystone."""

    def __init__(self, keystone):
        self.keystone = keystone
        services = keystone._admin('GET', '/services?type=image')
        self.service_id = services['services'][0]['id']

    def register_defaults(self, defaults):
        self.keystone._admin('POST', '/registered_limits', json={
            'registered_limits': [{
                'service_id': self.service_id,
                'region_id': keystone_fixture.REGION,
                'resource_name': name, 'default_limit': value,
            } for name, value in defaults.items()]})

    def set_project(self, project_id, limits):
        self.keystone._admin('POST', '/limits', json={'limits': [{
            'service_id': self.service_id,
            'region_id': keystone_fixture.REGION,
            'project_id': project_id,
            'resource_name': name, 'resource_limit': value,
        } for name, value in limits.items()]})


class Cloud:
    def __init__(self, keystone, limits):
        self.keystone = keystone
        self.limits = limits
        self.glance = None
        self.tokens = {}

    def project(self, limits=None):
        """A new project with a member user, and its project limits."""
        name = 'quota-%s' % uuid.uuid4().hex[:8]
        user = self.keystone.create_user(name + '-member', name, 'member')
        if limits:
            self.limits.set_project(self.keystone.projects[name], limits)
        return user

    def token(self, user):
        if user not in self.tokens:
            self.tokens[user] = self.keystone.token(user)
        return self.tokens[user]

    def call(self, user, method, path, headers=None, **kwargs):
        all_headers = {'X-Auth-Token': self.token(user)}
        all_headers.update(headers or {})
        return requests.request(method, self.glance.url + path,
                                headers=all_headers, timeout=120, **kwargs)

    def create(self, user, **values):
        body = {'name': 'quota-test', 'disk_format': 'raw',
                'container_format': 'bare'}
        body.update(values)
        return self.call(user, 'POST', '/v2/images', json=body)

    def new_image(self, user):
        response = self.create(user)
        assert response.status_code == 201, response.text
        return response.json()['id']

    def upload(self, user, image_id, data, headers=None):
        return self.call(user, 'PUT', '/v2/images/%s/file' % image_id,
                         data=data, headers=dict(OCTET, **(headers or {})))

    def stage(self, user, image_id, data):
        return self.call(user, 'PUT', '/v2/images/%s/stage' % image_id,
                         data=data, headers=OCTET)

    def show(self, user, image_id):
        response = self.call(user, 'GET', '/v2/images/%s' % image_id)
        assert response.status_code == 200, response.text
        return response.json()

    def usage(self, user):
        response = self.call(user, 'GET', '/v2/info/usage')
        assert response.status_code == 200, response.text
        return response.json()['usage']


def _glance_options(keystone, backend_options=None):
    options = {
        'DEFAULT': {'use_keystone_limits': True},
        'paste_deploy': {'flavor': 'keystone'},
        'keystone_authtoken': keystone.authtoken_options(),
        'oslo_limit': {
            'auth_url': keystone.url,
            'auth_type': 'password',
            'username': 'glance',
            'password': keystone_fixture.USER_PASSWORD,
            'user_domain_id': 'default',
            'system_scope': 'all',
            'endpoint_service_type': 'image',
            'endpoint_region_name': keystone_fixture.REGION,
        },
    }
    options.update(backend_options or {})
    return options


@pytest.fixture(scope='module')
def keystone():
    keystone = keystone_fixture.start_or_skip()
    try:
        keystone.create_user('glance', 'service', 'service')
        # oslo.limit reads limits of every project and the catalog.
        keystone._admin('PUT', '/system/users/%s/roles/%s' % (
            keystone.users['glance']['id'], keystone.roles['reader']))
        yield keystone
    finally:
        keystone.cleanup()


@pytest.fixture(scope='module')
def cloud(keystone):
    port = server_lib.free_port()
    keystone.register_image_endpoint('http://127.0.0.1:%d' % port)
    limits = Limits(keystone)
    limits.register_defaults(DEFAULTS)
    cloud = Cloud(keystone, limits)
    # Two worker processes: the race below crosses processes.
    cloud.glance = server_lib.Server('sqlite', port=port, workers=2,
                                     threads=8,
                                     options=_glance_options(keystone))
    try:
        cloud.glance.start()
        yield cloud
    finally:
        cloud.glance.cleanup()


def store_files(server, image_id):
    directory = os.path.join(server.state_path, 'images')
    if not os.path.isdir(directory):
        return []
    return [n for n in os.listdir(directory) if n.startswith(image_id)]


def staging_files(server, image_id):
    directory = os.path.join(server.state_path, 'staging')
    if not os.path.isdir(directory):
        return []
    return [n for n in os.listdir(directory) if n.startswith(image_id)]


def chunks_of(data, size=256 * 1024):
    """A body without Content-Length (chunked), as glanceclient sends."""
    def gen():
        for i in range(0, len(data), size):
            yield data[i:i + size]
    return gen()


def assert_over(response, resource, limit):
    assert response.status_code == 413, response.text
    assert resource in response.text
    assert 'over limit of %d' % limit in response.text
    assert 'current usage' in response.text


def assert_queued_and_clean(cloud, user, image_id):
    image = cloud.show(user, image_id)
    assert image['status'] == 'queued'
    assert image['size'] is None
    assert store_files(cloud.glance, image_id) == []
    assert staging_files(cloud.glance, image_id) == []


# -- usage -------------------------------------------------------------

def test_usage_reports_limits_and_usage(cloud):
    user = cloud.project({'image_size_total': 10, 'image_count_total': 7})
    usage = cloud.usage(user)
    assert usage == {
        'image_size_total': {'limit': 10, 'usage': 0},
        'image_stage_total': {'limit': 1000, 'usage': 0},
        'image_count_total': {'limit': 7, 'usage': 0},
        'image_count_uploading': {'limit': 100, 'usage': 0},
    }
    first = cloud.new_image(user)
    cloud.new_image(user)
    assert cloud.upload(user, first, b'x' * (2 * MiB)).status_code == 204
    usage = cloud.usage(user)
    assert usage['image_size_total'] == {'limit': 10, 'usage': 2}
    assert usage['image_count_total'] == {'limit': 7, 'usage': 2}
    assert usage['image_count_uploading']['usage'] == 0


def test_usage_is_per_project(cloud):
    user = cloud.project({'image_count_total': 3})
    other = cloud.project()
    cloud.new_image(user)
    assert cloud.usage(user)['image_count_total'] == {'limit': 3,
                                                      'usage': 1}
    assert cloud.usage(other)['image_count_total'] == {'limit': 100,
                                                       'usage': 0}


def test_usage_refuses_other_methods(cloud):
    user = cloud.project()
    response = cloud.call(user, 'POST', '/v2/info/usage')
    assert response.status_code == 405
    assert response.headers['Allow'] == 'GET'


# -- each limit --------------------------------------------------------

def test_image_count_total(cloud):
    user = cloud.project({'image_count_total': 2})
    cloud.new_image(user)
    second = cloud.new_image(user)
    response = cloud.create(user)
    assert_over(response, 'image_count_total', 2)
    assert 'current usage 2' in response.text
    # Deleting one gives its place back.
    assert cloud.call(user, 'DELETE',
                      '/v2/images/%s' % second).status_code == 204
    assert cloud.create(user).status_code == 201


def test_image_size_total_refused_before_any_byte(cloud):
    user = cloud.project({'image_size_total': 2})
    image_id = cloud.new_image(user)
    # A known size over the limit: refused before anything is stored.
    response = cloud.upload(user, image_id, b'x' * (2 * MiB + 1))
    assert_over(response, 'image_size_total', 2)
    assert_queued_and_clean(cloud, user, image_id)
    # Exactly the limit fits; then not one more byte.
    assert cloud.upload(user, image_id, b'x' * (2 * MiB)).status_code == 204
    another = cloud.new_image(user)
    response = cloud.upload(user, another, b'y')
    assert_over(response, 'image_size_total', 2)
    assert_queued_and_clean(cloud, user, another)


def test_image_size_total_declared_size_header(cloud):
    user = cloud.project({'image_size_total': 1})
    image_id = cloud.new_image(user)
    response = cloud.upload(user, image_id, chunks_of(b'x' * (2 * MiB)),
                            headers={'x-openstack-image-size':
                                     str(2 * MiB)})
    assert_over(response, 'image_size_total', 1)
    assert_queued_and_clean(cloud, user, image_id)


def test_image_size_total_stream_stopped_midway(cloud):
    user = cloud.project({'image_size_total': 3})
    kept = cloud.new_image(user)
    assert cloud.upload(user, kept, b'k' * MiB).status_code == 204
    image_id = cloud.new_image(user)
    # No size given: the body is reserved as it arrives and stopped
    # once it would cross the limit; what was written is removed.
    response = cloud.upload(user, image_id, chunks_of(b'x' * (3 * MiB)))
    assert_over(response, 'image_size_total', 3)
    assert_queued_and_clean(cloud, user, image_id)
    # Within the limit, an unknown size is fine.
    response = cloud.upload(user, image_id, chunks_of(b'x' * (2 * MiB)))
    assert response.status_code == 204, response.text
    assert cloud.usage(user)['image_size_total']['usage'] == 3


def test_image_stage_total(cloud):
    user = cloud.project({'image_stage_total': 1})
    image_id = cloud.new_image(user)
    response = cloud.stage(user, image_id, b'x' * (MiB + 1))
    assert_over(response, 'image_stage_total', 1)
    assert_queued_and_clean(cloud, user, image_id)
    response = cloud.stage(user, image_id, chunks_of(b'x' * (2 * MiB)))
    assert_over(response, 'image_stage_total', 1)
    assert_queued_and_clean(cloud, user, image_id)
    assert cloud.stage(user, image_id, b'x' * MiB).status_code == 204
    assert cloud.show(user, image_id)['status'] == 'uploading'
    assert cloud.usage(user)['image_stage_total'] == {'limit': 1,
                                                      'usage': 1}
    # The staged data holds the room until it is imported.
    another = cloud.new_image(user)
    response = cloud.stage(user, another, b'y')
    assert_over(response, 'image_stage_total', 1)
    assert_queued_and_clean(cloud, user, another)


def test_image_count_uploading(cloud):
    user = cloud.project({'image_count_uploading': 1})
    staged = cloud.new_image(user)
    assert cloud.stage(user, staged, b'x' * 1024).status_code == 204
    # The staged image counts as uploading until it is imported.
    assert cloud.usage(user)['image_count_uploading'] == {'limit': 1,
                                                          'usage': 1}
    image_id = cloud.new_image(user)
    response = cloud.upload(user, image_id, b'y' * 1024)
    assert_over(response, 'image_count_uploading', 1)
    assert_queued_and_clean(cloud, user, image_id)
    response = cloud.stage(user, image_id, b'y' * 1024)
    assert_over(response, 'image_count_uploading', 1)
    assert_queued_and_clean(cloud, user, image_id)
    # web-download would start another upload: refused when asked for.
    response = cloud.call(user, 'POST', '/v2/images/%s/import' % image_id,
                          json={'method': {'name': 'web-download',
                                           'uri': 'http://example.com/x.raw'}})
    assert_over(response, 'image_count_uploading', 1)
    assert cloud.show(user, image_id)['status'] == 'queued'


def test_glance_direct_import_checks_image_size_total(cloud):
    user = cloud.project({'image_size_total': 1})
    kept = cloud.new_image(user)
    assert cloud.upload(user, kept, b'k' * MiB).status_code == 204
    image_id = cloud.new_image(user)
    assert cloud.stage(user, image_id, b'x' * 1024).status_code == 204
    response = cloud.call(user, 'POST', '/v2/images/%s/import' % image_id,
                          json={'method': {'name': 'glance-direct'}})
    assert_over(response, 'image_size_total', 1)
    assert cloud.show(user, image_id)['status'] == 'uploading'


def test_a_project_without_limits_uses_registered_defaults(cloud):
    user = cloud.project()
    assert cloud.usage(user)['image_count_total']['limit'] == 100


# -- races and restarts ------------------------------------------------

def test_parallel_uploads_never_go_over(cloud):
    """20 uploads of 1 MiB at once against 5 MiB: exactly 5 succeed."""
    user = cloud.project({'image_size_total': 5})
    image_ids = [cloud.new_image(user) for _ in range(20)]
    cloud.token(user)
    data = b'r' * MiB
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(
            lambda image_id: cloud.upload(user, image_id,
                                          data).status_code, image_ids))
    assert sorted(set(codes)) == [204, 413], codes
    assert codes.count(204) == 5, codes
    active = [i for i in image_ids
              if cloud.show(user, i)['status'] == 'active']
    assert len(active) == 5
    assert cloud.usage(user)['image_size_total'] == {'limit': 5,
                                                     'usage': 5}
    for image_id in set(image_ids) - set(active):
        assert_queued_and_clean(cloud, user, image_id)


def test_parallel_creates_never_go_over(cloud):
    user = cloud.project({'image_count_total': 5})
    cloud.token(user)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda _: cloud.create(user).status_code,
                              range(20)))
    assert codes.count(201) == 5, codes
    assert codes.count(413) == 15, codes
    listed = cloud.call(user, 'GET', '/v2/images').json()['images']
    assert len(listed) == 5


def test_restarted_service_counts_the_same(cloud):
    user = cloud.project({'image_size_total': 3, 'image_count_total': 4})
    for _ in range(3):
        image_id = cloud.new_image(user)
        assert cloud.upload(user, image_id, b'z' * MiB).status_code == 204
    before = cloud.usage(user)
    cloud.glance.restart()
    assert cloud.usage(user) == before
    assert before['image_size_total'] == {'limit': 3, 'usage': 3}
    image_id = cloud.new_image(user)
    response = cloud.upload(user, image_id, b'z')
    assert_over(response, 'image_size_total', 3)
    assert_over(cloud.create(user), 'image_count_total', 4)


# -- every database ----------------------------------------------------

@pytest.fixture(scope='module', params=[b for b in server_lib.BACKENDS
                                        if b != 'sqlite'])
def cloud_each_db(request, keystone, cloud):
    glance = server_lib.start_or_skip(
        request.param, port=None, workers=2, threads=8,
        options=_glance_options(keystone))
    each = Cloud(keystone, cloud.limits)
    each.glance = glance
    yield each
    glance.cleanup()


def test_parallel_uploads_never_go_over_each_db(cloud_each_db):
    # The endpoint oslo.limit finds is the sqlite server's; the limits
    # are the same for any server of the service.
    test_parallel_uploads_never_go_over(cloud_each_db)
    test_parallel_creates_never_go_over(cloud_each_db)
