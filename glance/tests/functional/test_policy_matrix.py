"""Who may do what to which image: the default policy, end to end.

Every API operation on an image x every kind of caller x every image
visibility, against a real glance-api in the no-Keystone flavor (identity
from X-Project-Id / X-Roles headers, as keystonemiddleware would set
them, roles given with their implied roles as Keystone expands them).

The images belong to the project "owner". The callers:

    admin     admin (and member, reader) of another project
    member    member (and reader) of the owning project
    reader    reader of the owning project
    other     member of a project the image is not shared with
    sharee    member of a project the shared image is shared with (accepted)
    anonymous a request whose identity keystonemiddleware rejected

The rule: a caller that may not see an image gets 404; one that sees it
but may not do the operation gets 403 (doc/source/admin/policies.rst,
and doc/source/api-notes.rst: api-notes-deactivate,
api-notes-member-status, api-notes-reader-download, api-notes-own-member).
"""

import uuid

import pytest

VISIBILITIES = ('public', 'community', 'shared', 'private')
CALLERS = {
    'admin': ('admin-project', 'admin,member,reader'),
    'member': ('owner', 'member,reader'),
    'reader': ('owner', 'reader'),
    'other': ('other', 'member,reader'),
    'sharee': ('sharee', 'member,reader'),
    'anonymous': None,
}
DATA = b'0123456789abcdef' * 4


def headers_of(caller):
    identity = CALLERS[caller]
    if identity is None:
        return {'X-Identity-Status': 'Invalid'}
    project, roles = identity
    return {'X-Project-Id': project, 'X-User-Id': 'user-' + caller,
            'X-Roles': roles}


class World:
    """The server, a client per caller, and one image per visibility."""

    def __init__(self, server):
        self.server = server
        self.service = server.client()      # default identity: admin
        self.owner = server.client('owner', roles='member,reader')
        self.images = {vis: self.make_image(vis, data=True)
                       for vis in VISIBILITIES}

    def call(self, caller, method, path, **kwargs):
        headers = dict(headers_of(caller))
        headers.update(kwargs.pop('headers', {}))
        client = self.server.client()
        client.headers = {}
        try:
            return client.request(method, path, headers=headers, **kwargs)
        finally:
            client.close()

    def make_image(self, visibility, data=False):
        body = {'name': 'matrix-%s' % visibility, 'disk_format': 'raw',
                'container_format': 'bare', 'owner': 'owner',
                'visibility': visibility}
        # Only an admin may create a public image.
        creator = self.service if visibility == 'public' else self.owner
        response = creator.create_image(**body)
        assert response.status_code == 201, response.text
        image_id = response.json()['id']
        if data:
            response = self.owner.put(
                '/v2/images/%s/file' % image_id, data=DATA,
                headers={'Content-Type': 'application/octet-stream'})
            assert response.status_code == 204, response.text
        if visibility == 'shared':
            path = '/v2/images/%s/members' % image_id
            response = self.owner.post(path, json={'member': 'sharee'})
            assert response.status_code == 200, response.text
            response = self.call('sharee', 'PUT', path + '/sharee',
                                 json={'status': 'accepted'})
            assert response.status_code == 200, response.text
        return image_id


@pytest.fixture(scope='module')
def world(api_server):
    return World(api_server)


def sees(caller, visibility):
    return (caller in ('admin', 'member', 'reader') or
            visibility in ('public', 'community') or
            (caller == 'sharee' and visibility == 'shared'))


def expected_write(caller, visibility, success):
    if caller == 'anonymous':
        return 401
    if caller in ('admin', 'member'):
        return success
    return 403 if sees(caller, visibility) else 404


def expected(operation, caller, visibility):
    if caller == 'anonymous':
        return 401
    if operation == 'show':
        return 200 if sees(caller, visibility) else 404
    if operation == 'download':
        if not sees(caller, visibility):
            return 404
        return 403 if caller == 'reader' else 200
    if operation in ('list_members', 'add_member') and \
            visibility != 'shared':
        # "Only shared images have members" is 403 to whoever sees the
        # image, before any policy (as the reference answers).
        return 403 if sees(caller, visibility) else 404
    if operation == 'list_members':
        if caller in ('admin', 'member', 'reader'):
            return 200
        return 200 if caller == 'sharee' else 404
    if operation == 'add_member':
        return expected_write(caller, visibility, 200)
    success = {'update': 200, 'add_tag': 204, 'delete_tag': 204,
               'delete': 204, 'upload': 204, 'deactivate': 204,
               'reactivate': 204}[operation]
    return expected_write(caller, visibility, success)


# Each operation: (world, caller, visibility) -> the response's status.

def op_show(world, caller, vis):
    image_id = world.images[vis]
    return world.call(caller, 'GET', '/v2/images/%s' % image_id).status_code


def op_download(world, caller, vis):
    image_id = world.images[vis]
    response = world.call(caller, 'GET', '/v2/images/%s/file' % image_id)
    if response.status_code == 200:
        assert response.content == DATA
    return response.status_code


def op_update(world, caller, vis):
    response = world.call(
        caller, 'PATCH', '/v2/images/%s' % world.images[vis],
        json=[{'op': 'add', 'path': '/x_matrix', 'value': caller}],
        headers={'Content-Type':
                 'application/openstack-images-v2.1-json-patch'})
    if response.status_code == 200:
        assert response.json()['x_matrix'] == caller
    return response.status_code


def op_add_tag(world, caller, vis):
    path = '/v2/images/%s/tags/tag-%s' % (world.images[vis], caller)
    return world.call(caller, 'PUT', path).status_code


def op_delete_tag(world, caller, vis):
    path = '/v2/images/%s/tags/to-delete' % world.images[vis]
    assert world.service.put(path).status_code == 204
    return world.call(caller, 'DELETE', path).status_code


def op_delete(world, caller, vis):
    image_id = world.make_image(vis)
    status = world.call(caller, 'DELETE', '/v2/images/%s' % image_id) \
        .status_code
    gone = world.service.get('/v2/images/%s' % image_id).status_code == 404
    assert gone == (status == 204)
    return status


def op_upload(world, caller, vis):
    image_id = world.make_image(vis)
    return world.call(caller, 'PUT', '/v2/images/%s/file' % image_id,
                      data=DATA, headers={
                          'Content-Type': 'application/octet-stream'}) \
        .status_code


def op_deactivate(world, caller, vis):
    path = '/v2/images/%s/actions/' % world.images[vis]
    status = world.call(caller, 'POST', path + 'deactivate').status_code
    assert world.service.post(path + 'reactivate').status_code == 204
    return status


def op_reactivate(world, caller, vis):
    path = '/v2/images/%s/actions/' % world.images[vis]
    assert world.service.post(path + 'deactivate').status_code == 204
    status = world.call(caller, 'POST', path + 'reactivate').status_code
    assert world.service.post(path + 'reactivate').status_code == 204
    return status


def op_list_members(world, caller, vis):
    response = world.call(caller, 'GET',
                          '/v2/images/%s/members' % world.images[vis])
    if response.status_code == 200:
        members = {m['member_id'] for m in response.json()['members']}
        if caller == 'sharee':
            assert members == {'sharee'}
        elif vis == 'shared':
            assert 'sharee' in members
    return response.status_code


def op_add_member(world, caller, vis):
    member = 'new-%s-%s' % (caller, uuid.uuid4().hex[:6])
    return world.call(caller, 'POST',
                      '/v2/images/%s/members' % world.images[vis],
                      json={'member': member}).status_code


OPERATIONS = {
    'show': op_show, 'download': op_download, 'update': op_update,
    'add_tag': op_add_tag, 'delete_tag': op_delete_tag, 'delete': op_delete,
    'upload': op_upload, 'deactivate': op_deactivate,
    'reactivate': op_reactivate, 'list_members': op_list_members,
    'add_member': op_add_member,
}

CASES = [(op, caller, vis) for op in OPERATIONS for caller in CALLERS
         for vis in VISIBILITIES]


@pytest.mark.parametrize('operation,caller,visibility', CASES,
                         ids=['-'.join(case) for case in CASES])
def test_matrix(world, operation, caller, visibility):
    status = OPERATIONS[operation](world, caller, visibility)
    assert status == expected(operation, caller, visibility)


LISTED = {
    'admin': {'public', 'shared', 'private'},
    'member': set(VISIBILITIES),
    'reader': set(VISIBILITIES),
    'other': {'public'},
    'sharee': {'public', 'shared'},
}


@pytest.mark.parametrize('caller', sorted(LISTED))
def test_default_list(world, caller):
    response = world.call(caller, 'GET', '/v2/images?limit=1000')
    assert response.status_code == 200
    listed = {image['id'] for image in response.json()['images']}
    shown = {vis for vis, image_id in world.images.items()
             if image_id in listed}
    assert shown == LISTED[caller]


def test_anonymous_list(world):
    response = world.call('anonymous', 'GET', '/v2/images')
    assert response.status_code == 401
    assert response.headers['WWW-Authenticate'].startswith('Keystone')


@pytest.mark.parametrize('caller,status', [
    ('admin', 201), ('member', 201), ('reader', 403), ('other', 201),
    ('sharee', 201), ('anonymous', 401)])
def test_create(world, caller, status):
    response = world.call(caller, 'POST', '/v2/images',
                          json={'name': 'created-by-%s' % caller})
    assert response.status_code == status
    if status == 201:
        project = CALLERS[caller][0]
        assert response.json()['owner'] == project


@pytest.mark.parametrize('caller,visibility,status', [
    ('admin', 'public', 201), ('member', 'public', 403),
    ('member', 'community', 201), ('reader', 'community', 403),
    ('member', 'private', 201), ('member', 'shared', 201)])
def test_create_with_visibility(world, caller, visibility, status):
    response = world.call(caller, 'POST', '/v2/images',
                          json={'name': 'v', 'visibility': visibility})
    assert response.status_code == status


@pytest.mark.parametrize('caller,status', [
    ('admin', 201), ('member', 403), ('other', 403)])
def test_create_for_another_project(world, caller, status):
    response = world.call(caller, 'POST', '/v2/images',
                          json={'name': 'o', 'owner': 'someone-else'})
    assert response.status_code == status


@pytest.mark.parametrize('caller,visibility,status', [
    ('admin', 'public', 200), ('member', 'public', 403),
    ('reader', 'public', 403), ('member', 'community', 200),
    ('admin', 'community', 200), ('reader', 'community', 403),
    ('member', 'private', 200), ('member', 'shared', 200)])
def test_change_visibility(world, caller, visibility, status):
    image_id = world.make_image('private')
    response = world.call(
        caller, 'PATCH', '/v2/images/%s' % image_id,
        json=[{'op': 'replace', 'path': '/visibility', 'value': visibility}],
        headers={'Content-Type':
                 'application/openstack-images-v2.1-json-patch'})
    assert response.status_code == status
    current = world.service.get('/v2/images/%s' % image_id).json()
    assert current['visibility'] == (visibility if status == 200
                                     else 'private')


@pytest.mark.parametrize('caller', sorted(CALLERS))
def test_unknown_image(world, caller):
    path = '/v2/images/%s' % uuid.uuid4()
    expected_status = 401 if caller == 'anonymous' else 404
    for method, suffix in (('GET', ''), ('DELETE', ''), ('GET', '/file'),
                           ('GET', '/members')):
        assert world.call(caller, method, path + suffix).status_code == \
            expected_status


def test_unknown_role_only(world):
    """A caller with no role the policy knows can do nothing."""
    headers = {'X-Project-Id': 'owner', 'X-Roles': 'bogus'}
    client = world.server.client()
    client.headers = headers
    try:
        assert client.get('/v2/images').status_code == 403
        assert client.create_image(name='x').status_code == 403
        image_id = world.images['private']
        assert client.get('/v2/images/%s' % image_id).status_code == 404
        # Refused delete_image and get_image alike: 404, as the reference.
        assert client.delete('/v2/images/%s' % image_id).status_code == 404
    finally:
        client.close()


def test_admin_alone_passes_everything(world):
    """The admin role without member/reader passes every default."""
    client = world.server.client('elsewhere', roles='admin')
    try:
        image_id = world.images['private']
        assert client.get('/v2/images/%s' % image_id).status_code == 200
        assert client.get('/v2/images/%s/file' % image_id).status_code == \
            200
        shared_id = world.images['shared']
        assert client.get('/v2/images/%s/members' % shared_id) \
            .status_code == 200
        assert client.put('/v2/images/%s/tags/admin-only' % image_id) \
            .status_code == 204
    finally:
        client.close()
