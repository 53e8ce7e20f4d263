"""Image sharing: the members API and what each project lists and sees.

doc/source/api-notes.rst: api-notes-sharing, api-notes-member-status,
api-notes-default-list, api-notes-own-member. Runs on every database.
"""

import uuid

import pytest

SERVER_OPTIONS = {'DEFAULT': {'image_member_quota': 4}}

PATCH = {'Content-Type': 'application/openstack-images-v2.1-json-patch'}


@pytest.fixture(scope='module')
def clients(api_server_each_db):
    server = api_server_each_db
    made = {
        'owner': server.client('owner', roles='member,reader'),
        'owner-reader': server.client('owner', roles='reader'),
        'alice': server.client('alice', roles='member,reader'),
        'bob': server.client('bob', roles='member,reader'),
        'carol': server.client('carol', roles='member,reader'),
        'admin': server.client('admin-project', roles='admin'),
    }
    yield made
    for client in made.values():
        client.close()


def new_image(client, **values):
    values.setdefault('name', 'sharing-%s' % uuid.uuid4().hex[:8])
    response = client.create_image(**values)
    assert response.status_code == 201, response.text
    return response.json()['id']


def members_path(image_id, member=None):
    path = '/v2/images/%s/members' % image_id
    return path + '/' + member if member else path


def add(client, image_id, member):
    return client.post(members_path(image_id), json={'member': member})


def set_status(client, image_id, member, status):
    return client.put(members_path(image_id, member),
                      json={'status': status})


# -- the members API ------------------------------------------------------

def test_add_member(clients):
    image_id = new_image(clients['owner'])
    response = add(clients['owner'], image_id, 'alice')
    assert response.status_code == 200
    member = response.json()
    assert set(member) == {'created_at', 'image_id', 'member_id', 'schema',
                           'status', 'updated_at'}
    assert member['image_id'] == image_id
    assert member['member_id'] == 'alice'
    assert member['status'] == 'pending'
    assert member['schema'] == '/v2/schemas/member'
    assert member['created_at'].endswith('Z')


def test_shared_is_the_default_visibility(clients):
    image_id = new_image(clients['owner'])
    image = clients['owner'].get('/v2/images/%s' % image_id).json()
    assert image['visibility'] == 'shared'


def test_duplicate_member(clients):
    image_id = new_image(clients['owner'])
    assert add(clients['owner'], image_id, 'alice').status_code == 200
    assert add(clients['owner'], image_id, 'alice').status_code == 409


def test_owner_may_add_its_own_project(clients):
    image_id = new_image(clients['owner'])
    response = add(clients['owner'], image_id, 'owner')
    assert response.status_code == 200
    assert response.json()['member_id'] == 'owner'


@pytest.mark.parametrize('visibility', ['private', 'public', 'community'])
def test_only_shared_images_have_members(clients, visibility):
    creator = clients['admin'] if visibility == 'public' else \
        clients['owner']
    image_id = new_image(creator, visibility=visibility, owner='owner')
    response = add(clients['owner'], image_id, 'alice')
    # 403, as the reference answers ("Only shared images have members").
    assert response.status_code == 403
    assert 'shared' in response.json()['message']
    # Listing the members is refused too; one membership is not found.
    response = clients['owner'].get(members_path(image_id))
    assert response.status_code == 403
    assert clients['owner'].get(members_path(image_id, 'alice')) \
        .status_code == 404
    assert clients['admin'].get(members_path(image_id)).status_code == 403


def test_member_quota(clients):
    image_id = new_image(clients['owner'])
    for n in range(4):
        assert add(clients['owner'], image_id, 'p%d' % n).status_code == 200
    assert add(clients['owner'], image_id, 'p4').status_code == 413
    # Removing one makes room again.
    assert clients['owner'].delete(members_path(image_id, 'p0')) \
        .status_code == 204
    assert add(clients['owner'], image_id, 'p4').status_code == 200


@pytest.mark.parametrize('body', [
    {}, {'member': ''}, {'member': 12}, {'member': None},
    {'member': 'x' * 256}, [], 'alice'])
def test_bad_member_body(clients, body):
    image_id = new_image(clients['owner'])
    response = clients['owner'].post(members_path(image_id), json=body)
    assert response.status_code == 400


def test_no_body(clients):
    image_id = new_image(clients['owner'])
    response = clients['owner'].post(members_path(image_id))
    assert response.status_code == 400


def test_list_members(clients):
    image_id = new_image(clients['owner'])
    for member in ('alice', 'bob'):
        assert add(clients['owner'], image_id, member).status_code == 200
    response = clients['owner'].get(members_path(image_id))
    assert response.status_code == 200
    body = response.json()
    assert body['schema'] == '/v2/schemas/members'
    assert {m['member_id'] for m in body['members']} == {'alice', 'bob'}
    # A reader of the owning project lists them too.
    response = clients['owner-reader'].get(members_path(image_id))
    assert {m['member_id'] for m in response.json()['members']} == \
        {'alice', 'bob'}
    # A member sees only itself.
    response = clients['alice'].get(members_path(image_id))
    assert [m['member_id'] for m in response.json()['members']] == ['alice']
    # Others: 404.
    assert clients['carol'].get(members_path(image_id)).status_code == 404
    # An admin sees all.
    response = clients['admin'].get(members_path(image_id))
    assert len(response.json()['members']) == 2


def test_show_member(clients):
    image_id = new_image(clients['owner'])
    for member in ('alice', 'bob'):
        add(clients['owner'], image_id, member)
    owner, alice, carol = clients['owner'], clients['alice'], \
        clients['carol']
    assert owner.get(members_path(image_id, 'alice')).json()['member_id'] \
        == 'alice'
    assert alice.get(members_path(image_id, 'alice')).status_code == 200
    assert alice.get(members_path(image_id, 'bob')).status_code == 404
    assert carol.get(members_path(image_id, 'alice')).status_code == 404
    assert owner.get(members_path(image_id, 'nobody')).status_code == 404
    assert clients['admin'].get(members_path(image_id, 'bob')) \
        .status_code == 200


def test_member_status_changes(clients):
    image_id = new_image(clients['owner'])
    for member in ('alice', 'bob'):
        add(clients['owner'], image_id, member)
    # Only the member (or an admin) sets its status.
    assert set_status(clients['owner'], image_id, 'alice', 'accepted') \
        .status_code == 403
    # A third project that is itself a member: 404 (reference item 2).
    assert set_status(clients['bob'], image_id, 'alice', 'accepted') \
        .status_code == 404
    assert set_status(clients['carol'], image_id, 'alice', 'accepted') \
        .status_code == 404
    for status in ('accepted', 'rejected', 'pending', 'accepted'):
        response = set_status(clients['alice'], image_id, 'alice', status)
        assert response.status_code == 200
        assert response.json()['status'] == status
    response = set_status(clients['admin'], image_id, 'alice', 'rejected')
    assert response.status_code == 200
    assert response.json()['status'] == 'rejected'
    # The owner sees the member's choice.
    member = clients['owner'].get(members_path(image_id, 'alice')).json()
    assert member['status'] == 'rejected'


@pytest.mark.parametrize('body', [
    {'status': 'bogus'}, {'status': None}, {}, {'state': 'accepted'}])
def test_bad_status(clients, body):
    image_id = new_image(clients['owner'])
    add(clients['owner'], image_id, 'alice')
    response = clients['alice'].put(members_path(image_id, 'alice'),
                                    json=body)
    assert response.status_code == 400


def test_remove_member(clients):
    image_id = new_image(clients['owner'])
    add(clients['owner'], image_id, 'alice')
    set_status(clients['alice'], image_id, 'alice', 'accepted')
    # A member cannot remove its own membership (reference item 17).
    assert clients['alice'].delete(members_path(image_id, 'alice')) \
        .status_code == 403
    assert clients['carol'].delete(members_path(image_id, 'alice')) \
        .status_code == 404
    assert clients['owner-reader'].delete(members_path(image_id, 'alice')) \
        .status_code == 403
    assert clients['owner'].delete(members_path(image_id, 'alice')) \
        .status_code == 204
    assert clients['owner'].delete(members_path(image_id, 'alice')) \
        .status_code == 404
    assert clients['alice'].get('/v2/images/%s' % image_id).status_code \
        == 404
    # Hard delete: adding again starts afresh, pending.
    response = add(clients['owner'], image_id, 'alice')
    assert response.status_code == 200
    assert response.json()['status'] == 'pending'


def test_members_of_unknown_images(clients):
    for image_id in (str(uuid.uuid4()), 'not-a-uuid'):
        owner = clients['owner']
        assert owner.get(members_path(image_id)).status_code == 404
        assert add(owner, image_id, 'alice').status_code == 404
        assert owner.get(members_path(image_id, 'alice')).status_code == 404
        assert owner.delete(members_path(image_id, 'alice')).status_code \
            == 404


def test_members_of_a_deleted_image(clients):
    image_id = new_image(clients['owner'])
    add(clients['owner'], image_id, 'alice')
    assert clients['owner'].delete('/v2/images/%s' % image_id) \
        .status_code == 204
    assert clients['owner'].get(members_path(image_id)).status_code == 404
    assert clients['alice'].get(members_path(image_id, 'alice')) \
        .status_code == 404


def test_making_an_image_with_members_private(clients):
    """As the reference: allowed; the members are kept but out of sight
    until the image is shared again."""
    owner, alice = clients['owner'], clients['alice']
    image_id = new_image(owner)
    add(owner, image_id, 'alice')
    assert set_status(alice, image_id, 'alice', 'accepted') \
        .status_code == 200
    response = owner.patch_image(image_id, [
        {'op': 'replace', 'path': '/visibility', 'value': 'private'}])
    assert response.status_code == 200, response.text
    assert response.json()['visibility'] == 'private'
    # The member no longer sees the image nor its membership.
    assert alice.get('/v2/images/%s' % image_id).status_code == 404
    assert alice.get(members_path(image_id, 'alice')).status_code == 404
    assert set_status(alice, image_id, 'alice', 'rejected') \
        .status_code == 404
    listed = alice.get('/v2/images?member_status=all').json()['images']
    assert image_id not in {image['id'] for image in listed}
    # The owner cannot use the members of a private image.
    assert owner.get(members_path(image_id)).status_code == 403
    assert owner.get(members_path(image_id, 'alice')).status_code == 404
    assert add(owner, image_id, 'bob').status_code == 403
    assert owner.delete(members_path(image_id, 'alice')).status_code == 403
    # Shared again: the membership is back, status and all.
    response = owner.patch_image(image_id, [
        {'op': 'replace', 'path': '/visibility', 'value': 'shared'}])
    assert response.status_code == 200
    members = owner.get(members_path(image_id)).json()['members']
    assert [(m['member_id'], m['status']) for m in members] == \
        [('alice', 'accepted')]
    assert alice.get('/v2/images/%s' % image_id).status_code == 200
    # Other visibilities keep the members hidden the same way.
    response = owner.patch_image(image_id, [
        {'op': 'replace', 'path': '/visibility', 'value': 'community'}])
    assert response.status_code == 200
    assert owner.get(members_path(image_id)).status_code == 403
    owner.patch_image(image_id, [
        {'op': 'replace', 'path': '/visibility', 'value': 'shared'}])
    assert owner.delete(members_path(image_id, 'alice')).status_code == 204


# -- what each project sees -----------------------------------------------

@pytest.fixture(scope='module')
def catalog(clients):
    """Images of "owner" (tagged with a run id) and alice's statuses."""
    run = uuid.uuid4().hex[:8]
    owner = clients['owner']
    made = {}
    for name, visibility in (('public', 'public'),
                             ('community', 'community'),
                             ('private', 'private'),
                             ('accepted', 'shared'),
                             ('pending', 'shared'),
                             ('rejected', 'shared'),
                             ('unshared', 'shared')):
        creator = clients['admin'] if visibility == 'public' else owner
        made[name] = new_image(creator, visibility=visibility,
                               owner='owner', tags=[run])
    for status in ('accepted', 'pending', 'rejected'):
        assert add(owner, made[status], 'alice').status_code == 200
        if status != 'pending':
            assert set_status(clients['alice'], made[status], 'alice',
                              status).status_code == 200
    # alice's own community image.
    made['alice-community'] = new_image(clients['alice'],
                                        visibility='community', tags=[run])
    return run, made


def listed(client, catalog, query=''):
    run, made = catalog
    response = client.get('/v2/images?limit=1000&tag=%s%s' % (run, query))
    assert response.status_code == 200, response.text
    ids = {image['id'] for image in response.json()['images']}
    return {name for name, image_id in made.items() if image_id in ids}


EVERY_OWNER_IMAGE = {'public', 'community', 'private', 'accepted',
                     'pending', 'rejected', 'unshared'}


@pytest.mark.parametrize('who,query,expected', [
    # alice: public + own (own community too) + accepted shared.
    ('alice', '', {'public', 'accepted', 'alice-community'}),
    ('alice', '&member_status=pending',
     {'public', 'pending', 'alice-community'}),
    ('alice', '&member_status=rejected',
     {'public', 'rejected', 'alice-community'}),
    ('alice', '&member_status=all',
     {'public', 'accepted', 'pending', 'rejected', 'alice-community'}),
    ('alice', '&visibility=shared', {'accepted'}),
    ('alice', '&visibility=shared&member_status=pending', {'pending'}),
    ('alice', '&visibility=shared&member_status=all',
     {'accepted', 'pending', 'rejected'}),
    ('alice', '&visibility=community', {'community', 'alice-community'}),
    ('alice', '&visibility=public', {'public'}),
    ('alice', '&visibility=private', set()),
    ('alice', '&visibility=all',
     {'public', 'community', 'accepted', 'alice-community'}),
    ('carol', '', {'public'}),
    ('carol', '&visibility=community', {'community', 'alice-community'}),
    ('carol', '&visibility=all', {'public', 'community', 'alice-community'}),
    ('carol', '&visibility=shared&member_status=all', set()),
    # The owner lists all its own images, community included.
    ('owner', '', EVERY_OWNER_IMAGE),
    ('owner', '&visibility=shared',
     {'accepted', 'pending', 'rejected', 'unshared'}),
    ('owner', '&visibility=private', {'private'}),
    ('owner', '&visibility=community', {'community', 'alice-community'}),
    # An admin: every project's private and shared images, but other
    # projects' community images only with visibility=all/community.
    ('admin', '', EVERY_OWNER_IMAGE - {'community'}),
    ('admin', '&visibility=all', EVERY_OWNER_IMAGE | {'alice-community'}),
    ('admin', '&visibility=community', {'community', 'alice-community'}),
    ('admin', '&visibility=private', {'private'}),
])
def test_list(clients, catalog, who, query, expected):
    assert listed(clients[who], catalog, query) == expected


@pytest.mark.parametrize('name,alice_sees', [
    ('public', True), ('community', True), ('private', False),
    ('accepted', True), ('pending', True), ('rejected', True),
    ('unshared', False)])
def test_show(clients, catalog, name, alice_sees):
    _run, made = catalog
    response = clients['alice'].get('/v2/images/%s' % made[name])
    assert response.status_code == (200 if alice_sees else 404)
    assert clients['carol'].get('/v2/images/%s' % made[name]) \
        .status_code == (200 if name in ('public', 'community') else 404)


@pytest.mark.parametrize('query', ['&visibility=bogus',
                                   '&member_status=bogus'])
def test_bad_filters(clients, catalog, query):
    run, _made = catalog
    response = clients['alice'].get('/v2/images?tag=%s%s' % (run, query))
    assert response.status_code == 400


def test_a_rejected_image_can_be_accepted_again(clients, catalog):
    _run, made = catalog
    image_id = new_image(clients['owner'])
    add(clients['owner'], image_id, 'bob')
    set_status(clients['bob'], image_id, 'bob', 'rejected')
    assert image_id not in {i['id'] for i in clients['bob'].get(
        '/v2/images?limit=1000').json()['images']}
    set_status(clients['bob'], image_id, 'bob', 'accepted')
    assert image_id in {i['id'] for i in clients['bob'].get(
        '/v2/images?limit=1000').json()['images']}
