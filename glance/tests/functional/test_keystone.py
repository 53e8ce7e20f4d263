"""The Keystone flavor against a real Keystone, with real tokens.

Keystone is installed from PyPI into a cached virtualenv and run on
loopback (keystone_fixture.py); glance-api runs with
``[paste_deploy] flavor = keystone`` and keystonemiddleware's auth_token
validating tokens against it. The users get their roles on their
projects from Keystone, which expands implied roles (admin -> member ->
reader), and authenticate with passwords through keystoneauth,
openstacksdk and python-glanceclient, unmodified.

Skipped (with the reason) only when Keystone cannot be installed here and
GLANCE_TEST_REQUIRE_ALL_DBS is not set; CI sets it, so there they run.
"""

import io
import uuid

import pytest
import requests

from glance.tests.functional import keystone_fixture
from glance.tests.functional import server as server_lib

USERS = {
    # name: (project, role)
    'glance': ('service', 'service'),
    'alpha-admin': ('alpha', 'admin'),
    'alpha-member': ('alpha', 'member'),
    'alpha-reader': ('alpha', 'reader'),
    'beta-member': ('beta', 'member'),
}
DATA = b'keystone-flavor-data' * 10
PATCH = 'application/openstack-images-v2.1-json-patch'
SOME_ID = '5b1f0c62-6a8e-4a64-9d40-8c1b7b3f2a10'
# Keystone's bootstrap admin with a system-scoped token.
SYSTEM_ADMIN = 'system-admin'


class Cloud:
    def __init__(self, keystone, glance):
        self.keystone = keystone
        self.glance = glance
        self.tokens = {}

    def token(self, user):
        if user not in self.tokens:
            if user == SYSTEM_ADMIN:
                self.tokens[user] = self.keystone.system_token()
            else:
                self.tokens[user] = self.keystone.token(user)
        return self.tokens[user]

    def project_id(self, user):
        return self.keystone.users[user]['project_id']

    def call(self, user, method, path, headers=None, **kwargs):
        all_headers = {'Accept': 'application/json'}
        if user is not None:
            all_headers['X-Auth-Token'] = self.token(user)
        all_headers.update(headers or {})
        return requests.request(method, self.glance.url + path,
                                headers=all_headers, timeout=60,
                                allow_redirects=False, **kwargs)

    def session(self, user):
        from keystoneauth1 import identity
        from keystoneauth1 import session
        auth = identity.Password(**self.keystone.auth_kwargs(user))
        return session.Session(auth=auth)

    def sdk(self, user):
        import openstack
        return openstack.connection.Connection(
            session=self.session(user), region_name=keystone_fixture.REGION,
            image_api_version='2')

    def glanceclient(self, user):
        from glanceclient import client
        return client.Client('2', session=self.session(user))


@pytest.fixture(scope='module')
def cloud():
    keystone = keystone_fixture.start_or_skip()
    glance = None
    try:
        for user, (project, role) in USERS.items():
            keystone.create_user(user, project, role)
        port = server_lib.free_port()
        keystone.register_image_endpoint('http://127.0.0.1:%d' % port)
        glance = server_lib.Server('sqlite', port=port, options={
            'paste_deploy': {'flavor': 'keystone'},
            'keystone_authtoken': keystone.authtoken_options(),
        })
        glance.start()
        yield Cloud(keystone, glance)
    finally:
        if glance is not None:
            glance.cleanup()
        keystone.cleanup()


def create(cloud, user, **values):
    values.setdefault('name', 'ks-%s' % uuid.uuid4().hex[:8])
    values.setdefault('disk_format', 'raw')
    values.setdefault('container_format', 'bare')
    response = cloud.call(user, 'POST', '/v2/images', json=values)
    return response


def create_with_data(cloud, user, **values):
    response = create(cloud, user, **values)
    assert response.status_code == 201, response.text
    image_id = response.json()['id']
    response = cloud.call(user, 'PUT', '/v2/images/%s/file' % image_id,
                          data=DATA, headers={
                              'Content-Type': 'application/octet-stream'})
    assert response.status_code == 204, response.text
    return image_id


# -- authentication --------------------------------------------------------

def test_discovery_needs_no_token(cloud):
    assert cloud.call(None, 'GET', '/').status_code == 300
    response = cloud.call(None, 'GET', '/versions')
    assert response.status_code == 200
    assert response.json()['versions']


@pytest.mark.parametrize('method,path', [
    ('GET', '/v2/images'), ('POST', '/v2/images'),
    ('GET', '/v2/images/%s' % SOME_ID),
    ('GET', '/v2/images/%s/members' % SOME_ID),
    ('GET', '/v2/schemas/image'), ('GET', '/v2/openapi.json')])
def test_no_token_is_401(cloud, method, path):
    response = cloud.call(None, method, path)
    assert response.status_code == 401
    assert response.headers['WWW-Authenticate'] == \
        'Keystone uri="%s"' % cloud.keystone.url


def test_bad_token_is_401(cloud):
    response = cloud.call(None, 'GET', '/v2/images',
                          headers={'X-Auth-Token': 'not-a-token'})
    assert response.status_code == 401
    assert 'WWW-Authenticate' in response.headers


def test_identity_headers_cannot_be_forged(cloud):
    forged = {'X-Roles': 'admin', 'X-Project-Id': 'someone-else',
              'X-Identity-Status': 'Confirmed'}
    response = create(cloud, 'alpha-member', visibility='public')
    assert response.status_code == 403
    response = cloud.call('alpha-reader', 'POST', '/v2/images',
                          json={'name': 'forged'}, headers=forged)
    assert response.status_code == 403
    response = cloud.call('alpha-member', 'POST', '/v2/images',
                          json={'name': 'forged'}, headers=forged)
    assert response.status_code == 201
    assert response.json()['owner'] == cloud.project_id('alpha-member')


def test_service_token_is_accepted(cloud):
    response = cloud.call('alpha-member', 'GET', '/v2/images', headers={
        'X-Service-Token': cloud.token('glance')})
    assert response.status_code == 200


# -- the policy matrix with real tokens ------------------------------------

@pytest.fixture(scope='module')
def images(cloud):
    made = {
        'private': create_with_data(cloud, 'alpha-member',
                                    visibility='private'),
        'shared': create_with_data(cloud, 'alpha-member'),
        'community': create_with_data(cloud, 'alpha-member',
                                      visibility='community'),
        'public': create_with_data(cloud, 'alpha-admin',
                                   visibility='public'),
    }
    return made


# (operation, user, visibility, status)
MATRIX = [
    ('show', 'alpha-reader', 'private', 200),
    ('show', 'alpha-member', 'private', 200),
    ('show', 'alpha-admin', 'private', 200),
    ('show', 'beta-member', 'private', 404),
    ('show', 'beta-member', 'shared', 404),
    ('show', 'beta-member', 'community', 200),
    ('show', 'beta-member', 'public', 200),
    ('download', 'alpha-reader', 'private', 403),
    ('download', 'alpha-member', 'private', 200),
    ('download', 'alpha-admin', 'private', 200),
    ('download', 'beta-member', 'public', 200),
    ('download', 'beta-member', 'private', 404),
    ('update', 'alpha-reader', 'private', 403),
    ('update', 'alpha-member', 'private', 200),
    ('update', 'alpha-admin', 'shared', 200),
    ('update', 'beta-member', 'public', 403),
    ('update', 'beta-member', 'shared', 404),
    ('list_members', 'alpha-reader', 'shared', 200),
    # Not shared: 403 to whoever sees the image, as the reference.
    ('list_members', 'beta-member', 'public', 403),
    ('add_member', 'alpha-reader', 'shared', 403),
    # Only shared images have members: 403, as the reference answers.
    ('add_member', 'alpha-member', 'private', 403),
    ('deactivate', 'beta-member', 'public', 403),
    ('deactivate', 'alpha-reader', 'private', 403),
]


def run(cloud, images, operation, user, visibility):
    image_id = images[visibility]
    path = '/v2/images/%s' % image_id
    if operation == 'show':
        return cloud.call(user, 'GET', path).status_code
    if operation == 'download':
        response = cloud.call(user, 'GET', path + '/file')
        if response.status_code == 200:
            assert response.content == DATA
        return response.status_code
    if operation == 'update':
        return cloud.call(user, 'PATCH', path, headers={
            'Content-Type': PATCH}, json=[
            {'op': 'add', 'path': '/x_by', 'value': user}]).status_code
    if operation == 'list_members':
        return cloud.call(user, 'GET', path + '/members').status_code
    if operation == 'add_member':
        return cloud.call(user, 'POST', path + '/members', json={
            'member': uuid.uuid4().hex}).status_code
    if operation == 'deactivate':
        return cloud.call(user, 'POST', path + '/actions/deactivate') \
            .status_code
    raise AssertionError(operation)


@pytest.mark.parametrize('operation,user,visibility,status', MATRIX,
                         ids=['-'.join(row[:3]) for row in MATRIX])
def test_matrix(cloud, images, operation, user, visibility, status):
    assert run(cloud, images, operation, user, visibility) == status


@pytest.mark.parametrize('user,status', [
    ('alpha-admin', 201), ('alpha-member', 201), ('alpha-reader', 403),
    ('beta-member', 201)])
def test_create(cloud, user, status):
    response = create(cloud, user)
    assert response.status_code == status
    if status == 201:
        assert response.json()['owner'] == cloud.project_id(user)


def test_list_by_project(cloud, images):
    beta = {i['id'] for i in cloud.call(
        'beta-member', 'GET', '/v2/images?limit=1000').json()['images']}
    assert images['public'] in beta
    assert images['private'] not in beta
    assert images['shared'] not in beta
    assert images['community'] not in beta
    alpha = {i['id'] for i in cloud.call(
        'alpha-reader', 'GET', '/v2/images?limit=1000').json()['images']}
    assert set(images.values()) <= alpha


# -- sharing through the clients --------------------------------------------

def test_sharing_with_openstacksdk(cloud):
    alpha = cloud.sdk('alpha-member')
    beta = cloud.sdk('beta-member')
    beta_project = cloud.project_id('beta-member')
    image = alpha.image.create_image(
        'sdk-shared-%s' % uuid.uuid4().hex[:6], disk_format='raw',
        container_format='bare', visibility='shared', allow_duplicates=True)
    assert image.owner == cloud.project_id('alpha-member')

    member = alpha.image.add_member(image, member_id=beta_project)
    assert member.status == 'pending'
    assert beta.image.get_image(image.id).id == image.id
    assert image.id not in {i.id for i in beta.image.images()}

    member = beta.image.update_member(member, image, status='accepted')
    assert member.status == 'accepted'
    assert image.id in {i.id for i in beta.image.images()}
    assert [m.member_id for m in beta.image.members(image)] == \
        [beta_project]
    assert alpha.image.get_member(beta_project, image).status == 'accepted'

    alpha.image.remove_member(beta_project, image)
    assert list(alpha.image.members(image)) == []
    with pytest.raises(Exception) as e:
        beta.image.get_image(image.id)
    assert getattr(e.value, 'status_code', None) == 404
    alpha.image.delete_image(image)


def test_sharing_with_glanceclient(cloud):
    from glanceclient import exc

    alpha = cloud.glanceclient('alpha-member')
    beta = cloud.glanceclient('beta-member')
    reader = cloud.glanceclient('alpha-reader')
    beta_project = cloud.project_id('beta-member')
    image = alpha.images.create(name='gc-shared', disk_format='raw',
                                container_format='bare')
    assert image['visibility'] == 'shared'
    alpha.images.upload(image['id'], io.BytesIO(DATA))

    member = alpha.image_members.create(image['id'], beta_project)
    assert member['status'] == 'pending'
    with pytest.raises(exc.HTTPForbidden):
        alpha.image_members.update(image['id'], beta_project, 'accepted')
    with pytest.raises(exc.HTTPForbidden):
        reader.image_members.create(image['id'], 'another-project')
    member = beta.image_members.update(image['id'], beta_project,
                                       'accepted')
    assert member['status'] == 'accepted'
    assert [m['member_id'] for m in alpha.image_members.list(image['id'])] \
        == [beta_project]
    listed = {i['id'] for i in beta.images.list(
        filters={'visibility': 'shared'})}
    assert image['id'] in listed
    assert b''.join(beta.images.data(image['id'])) == DATA
    with pytest.raises(exc.HTTPForbidden):
        b''.join(reader.images.data(image['id']))
    with pytest.raises(exc.HTTPForbidden):
        beta.image_members.delete(image['id'], beta_project)
    # Made private with its member (allowed, as the reference): the
    # member is kept but loses sight of the image until it is shared.
    alpha.images.update(image['id'], visibility='private')
    with pytest.raises(exc.HTTPNotFound):
        beta.images.get(image['id'])
    with pytest.raises(exc.HTTPForbidden):
        list(alpha.image_members.list(image['id']))
    alpha.images.update(image['id'], visibility='shared')
    assert beta.images.get(image['id'])['id'] == image['id']


def test_admin_sets_a_member_status(cloud):
    """doc/source/api-notes.rst, api-notes-member-status, with real
    tokens."""
    image_id = create(cloud, 'alpha-member').json()['id']
    beta_project = cloud.project_id('beta-member')
    path = '/v2/images/%s/members' % image_id
    assert cloud.call('alpha-member', 'POST', path, json={
        'member': beta_project}).status_code == 200
    response = cloud.call('alpha-admin', 'PUT', path + '/' + beta_project,
                          json={'status': 'rejected'})
    assert response.status_code == 200
    assert response.json()['status'] == 'rejected'


# -- a system-scoped token --------------------------------------------------

def _system_scope_calls(image_id, member):
    path = '/v2/images/%s' % image_id
    octet = {'Content-Type': 'application/octet-stream'}
    return [
        ('show', 'GET', path, {}),
        ('update', 'PATCH', path, {'headers': {'Content-Type': PATCH},
                                   'json': [{'op': 'add', 'path': '/x_sys',
                                             'value': '1'}]}),
        ('upload', 'PUT', path + '/file', {'data': DATA,
                                           'headers': octet}),
        ('download', 'GET', path + '/file', {}),
        ('deactivate', 'POST', path + '/actions/deactivate', {}),
        ('reactivate', 'POST', path + '/actions/reactivate', {}),
        ('delete', 'DELETE', path, {}),
        ('list members', 'GET', path + '/members', {}),
        ('show member', 'GET', path + '/members/' + member, {}),
        ('update member', 'PUT', path + '/members/' + member,
         {'json': {'status': 'accepted'}}),
        ('delete member', 'DELETE', path + '/members/' + member, {}),
    ]


@pytest.mark.parametrize('visibility', ['shared', 'public'])
def test_system_scope_finds_no_project_image(cloud, visibility):
    """The reference gives a system-scoped token no access to a project's
    images: every call on one is 404 (as the image service's RBAC
    integration tests check), list and create are 403."""
    creator = 'alpha-admin' if visibility == 'public' else 'alpha-member'
    image_id = create_with_data(cloud, creator, visibility=visibility)
    queued = create(cloud, 'alpha-member').json()['id']
    beta = cloud.project_id('beta-member')
    if visibility == 'shared':
        assert cloud.call('alpha-member', 'POST',
                          '/v2/images/%s/members' % image_id,
                          json={'member': beta}).status_code == 200
    calls = _system_scope_calls(image_id, beta)
    calls.append(('upload to queued', 'PUT',
                  '/v2/images/%s/file' % queued,
                  {'data': DATA,
                   'headers': {'Content-Type': 'application/octet-stream'}}))
    answers = {name: cloud.call(SYSTEM_ADMIN, method, path,
                                **kwargs).status_code
               for name, method, path, kwargs in calls}
    expected = {name: 404 for name in answers}
    if visibility == 'public':
        # As the reference: "only shared images have members" is asked
        # before policy, so that refusal (403) comes first.
        expected.update({'list members': 403, 'update member': 403,
                         'delete member': 403})
    assert answers == expected
    assert cloud.call(SYSTEM_ADMIN, 'GET', '/v2/images').status_code == 403
    assert create(cloud, SYSTEM_ADMIN).status_code == 403
    # Nothing changed.
    shown = cloud.call('alpha-member', 'GET',
                       '/v2/images/%s' % image_id).json()
    assert shown['status'] == 'active' and 'x_sys' not in shown
    assert cloud.call('alpha-member', 'GET', '/v2/images/%s' % queued) \
        .json()['status'] == 'queued'
