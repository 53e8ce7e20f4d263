"""Who may do what to which metadef namespace: the default policy, end
to end.

Every metadefs operation x admin / member / reader of the owning project
/ member / reader of another project (and an anonymous caller) x a
public and a private namespace, against a real glance-api in the
no-Keystone flavor (identity from headers, roles expanded as Keystone
implies them).

The rule, as the reference (and glance-tempest-plugin's RBAC tests)
has it: an admin may do everything; anyone else may read what they see
(public namespaces and their own project's) and write nothing; a
namespace the caller does not see is 404, a write refused on one they
see is 403.
"""

import uuid

import pytest

VISIBILITIES = ('public', 'private')
CALLERS = {
    'admin': ('admin-project', 'admin,member,reader'),
    'member': ('owner', 'member,reader'),
    'reader': ('owner', 'reader'),
    'other_member': ('other', 'member,reader'),
    'other_reader': ('other', 'reader'),
    'anonymous': None,
}
NS = '/v2/metadefs/namespaces'


def headers_of(caller):
    identity = CALLERS[caller]
    if identity is None:
        return {'X-Identity-Status': 'Invalid'}
    project, roles = identity
    return {'X-Project-Id': project, 'X-User-Id': 'user-' + caller,
            'X-Roles': roles}


class World:
    """The server, and one filled namespace of 'owner' per visibility
    for the reads; writes get a fresh namespace each."""

    def __init__(self, server):
        self.server = server
        self.admin = server.client('admin-project',
                                   roles='admin,member,reader')
        self.namespaces = {vis: self.make(vis) for vis in VISIBILITIES}

    def make(self, visibility):
        name = 'matrix-%s-%s' % (visibility, uuid.uuid4().hex[:8])
        response = self.admin.post(NS, json={
            'namespace': name, 'visibility': visibility, 'owner': 'owner',
            'resource_type_associations': [{'name': 'OS::Glance::Image',
                                            'prefix': 'p_'}],
            'properties': {'prop': {'title': 'P', 'type': 'string'}},
            'objects': [{'name': 'obj'}],
            'tags': [{'name': 'tag'}]})
        assert response.status_code == 201, response.text
        return name

    def call(self, caller, method, path, **kwargs):
        client = self.server.client()
        client.headers = headers_of(caller)
        try:
            return client.request(method, path, **kwargs)
        finally:
            client.close()


@pytest.fixture(scope='module')
def world(api_server):
    return World(api_server)


def sees(caller, visibility):
    return caller in ('admin', 'member', 'reader') or visibility == 'public'


# operation: (method, path under the namespace, body, success status,
# whether it writes). A write gets a namespace of its own.
OPERATIONS = {
    'get_namespace': ('GET', '', None, 200, False),
    'update_namespace': ('PUT', '', 'rename', 200, True),
    'delete_namespace': ('DELETE', '', None, 204, True),
    'list_objects': ('GET', '/objects', None, 200, False),
    'get_object': ('GET', '/objects/obj', None, 200, False),
    'add_object': ('POST', '/objects', {'name': 'new'}, 201, True),
    'update_object': ('PUT', '/objects/obj', {'name': 'obj2'}, 200, True),
    'delete_object': ('DELETE', '/objects/obj', None, 204, True),
    'delete_objects': ('DELETE', '/objects', None, 204, True),
    'list_properties': ('GET', '/properties', None, 200, False),
    'get_property': ('GET', '/properties/prop', None, 200, False),
    'add_property': ('POST', '/properties', {
        'name': 'new', 'title': 'N', 'type': 'integer'}, 201, True),
    'update_property': ('PUT', '/properties/prop', {
        'name': 'prop', 'title': 'Q', 'type': 'string'}, 200, True),
    'delete_property': ('DELETE', '/properties/prop', None, 204, True),
    'delete_properties': ('DELETE', '/properties', None, 204, True),
    'list_tags': ('GET', '/tags', None, 200, False),
    'get_tag': ('GET', '/tags/tag', None, 200, False),
    'add_tag': ('POST', '/tags/new', None, 201, True),
    'add_tags': ('POST', '/tags', {'tags': [{'name': 'a'}]}, 201, True),
    'update_tag': ('PUT', '/tags/tag', {'name': 'tag2'}, 200, True),
    'delete_tag': ('DELETE', '/tags/tag', None, 204, True),
    'delete_tags': ('DELETE', '/tags', None, 204, True),
    'list_associations': ('GET', '/resource_types', None, 200, False),
    'add_association': ('POST', '/resource_types',
                        {'name': 'OS::Nova::Flavor'}, 201, True),
    'remove_association': ('DELETE', '/resource_types/OS::Glance::Image',
                           None, 204, True),
}


def expected(operation, caller, visibility):
    success, writes = OPERATIONS[operation][3:]
    if caller == 'anonymous':
        return 401
    if not sees(caller, visibility):
        return 404
    if writes and caller != 'admin':
        return 403
    return success


CASES = [(op, caller, vis) for op in OPERATIONS for caller in CALLERS
         for vis in VISIBILITIES]


@pytest.mark.parametrize('operation,caller,visibility', CASES,
                         ids=['-'.join(case) for case in CASES])
def test_matrix(world, operation, caller, visibility):
    method, suffix, body, success, writes = OPERATIONS[operation]
    name = world.make(visibility) if writes else world.namespaces[visibility]
    if body == 'rename':
        body = {'namespace': name, 'visibility': visibility,
                'owner': 'owner', 'description': 'changed'}
    before = world.admin.get('%s/%s' % (NS, name)).json()
    response = world.call(caller, method, NS + '/' + name + suffix,
                          json=body)
    status = expected(operation, caller, visibility)
    assert response.status_code == status, response.text
    if writes and status != success:
        # A refused write changed nothing.
        after = world.admin.get('%s/%s' % (NS, name)).json()
        assert after == before


LISTED = {
    'admin': {'public', 'private'},
    'member': {'public', 'private'},
    'reader': {'public', 'private'},
    'other_member': {'public'},
    'other_reader': {'public'},
}


@pytest.mark.parametrize('caller', sorted(LISTED))
def test_list_namespaces(world, caller):
    response = world.call(caller, 'GET', NS + '?limit=1000')
    assert response.status_code == 200
    listed = {ns['namespace'] for ns in response.json()['namespaces']}
    shown = {vis for vis, name in world.namespaces.items() if name in listed}
    assert shown == LISTED[caller]


@pytest.mark.parametrize('caller,status', [
    ('admin', 201), ('member', 403), ('reader', 403),
    ('other_member', 403), ('other_reader', 403), ('anonymous', 401)])
def test_create_namespace(world, caller, status):
    name = 'created-by-%s-%s' % (caller, uuid.uuid4().hex[:6])
    response = world.call(caller, 'POST', NS, json={'namespace': name})
    assert response.status_code == status
    exists = world.admin.get('%s/%s' % (NS, name)).status_code == 200
    assert exists == (status == 201)


@pytest.mark.parametrize('caller,status', [
    ('admin', 200), ('member', 200), ('reader', 200),
    ('other_member', 200), ('other_reader', 200), ('anonymous', 401)])
def test_list_resource_types(world, caller, status):
    response = world.call(caller, 'GET', '/v2/metadefs/resource_types')
    assert response.status_code == status
    if status == 200:
        names = {t['name'] for t in response.json()['resource_types']}
        assert 'OS::Glance::Image' in names


def test_unknown_role_only(world):
    """A caller with no role the policy knows reads and writes nothing."""
    client = world.server.client()
    client.headers = {'X-Project-Id': 'owner', 'X-Roles': 'bogus'}
    try:
        assert client.get(NS).status_code == 403
        name = world.namespaces['private']
        assert client.get('%s/%s' % (NS, name)).status_code == 404
        assert client.get('/v2/metadefs/resource_types').status_code == 403
    finally:
        client.close()
