"""Property protections through the API, in both file formats, and the
start-up failures of a missing or malformed file.
"""

import os
import textwrap

import pytest

from glance.tests.functional import server as server_lib

ROLES = """
    [^x_admin_.*]
    create = admin
    read = admin,member
    update = admin
    delete = admin

    [^x_secret_.*]
    create = admin,member
    read = admin
    update = admin
    delete = admin

    [^x_frozen$]
    create = member
    read = @
    update = !
    delete = !

    [^x_.*]
    create = member
    read = @
    update = member
    delete = member
    """

POLICIES = """
    [^x_admin_.*]
    create = context_is_admin
    read = prop_readers
    update = context_is_admin
    delete = context_is_admin

    [^x_secret_.*]
    create = prop_writers
    read = context_is_admin
    update = context_is_admin
    delete = context_is_admin

    [^x_frozen$]
    create = prop_writers
    read = @
    update = !
    delete = !

    [^x_.*]
    create = prop_writers
    read = default
    update = prop_writers
    delete = prop_writers
    """

POLICY_FILE = ('"prop_readers": "role:admin or role:member"\n'
               '"prop_writers": "role:member"\n')


def _start(tmp_path_factory, rule_format, text):
    directory = tmp_path_factory.mktemp('protections-' + rule_format)
    path = directory / 'protections.conf'
    path.write_text(textwrap.dedent(text))
    options = {'DEFAULT': {'property_protection_file': str(path),
                           'property_protection_rule_format': rule_format}}
    if rule_format == 'policies':
        policy = directory / 'policy.yaml'
        policy.write_text(POLICY_FILE)
        options['oslo_policy'] = {'policy_file': str(policy)}
    return server_lib.start_or_skip('sqlite', options=options)


@pytest.fixture(scope='module', params=['roles', 'policies'])
def server(request, tmp_path_factory):
    text = ROLES if request.param == 'roles' else POLICIES
    server = _start(tmp_path_factory, request.param, text)
    yield server
    server.cleanup()


@pytest.fixture
def clients(server):
    made = {
        'admin': server.client('p1', roles='admin,member,reader'),
        'member': server.client('p1', roles='member,reader'),
        'reader': server.client('p1', roles='reader'),
    }
    yield made
    for client in made.values():
        client.close()


def create(client, **props):
    return client.create_image(name='pp', **props)


def patch(client, image_id, *ops):
    return client.patch_image(image_id, list(ops))


def op(kind, name, value=None):
    change = {'op': kind, 'path': '/' + name}
    if kind != 'remove':
        change['value'] = value
    return change


def test_create_by_role(clients):
    assert create(clients['member'], x_thing='1').status_code == 201
    assert create(clients['member'], x_admin_a='1').status_code == 403
    assert create(clients['admin'], x_admin_a='1').status_code == 201
    assert create(clients['reader'], x_thing='1').status_code == 403


def test_no_matching_section_is_denied(clients):
    for who in ('admin', 'member'):
        response = create(clients[who], unmatched='1')
        assert response.status_code == 403
        assert 'unmatched' in response.json()['message']


def test_read_protection_hides_everywhere(clients, server):
    response = create(clients['admin'], x_admin_a='a', x_thing='t')
    image_id = response.json()['id']
    # Shown to admin and member...
    assert clients['member'].get('/v2/images/%s' % image_id) \
        .json()['x_admin_a'] == 'a'
    # ... hidden from a reader, in show and in list.
    image = clients['reader'].get('/v2/images/%s' % image_id).json()
    assert 'x_admin_a' not in image and image['x_thing'] == 't'
    listed = clients['reader'].get('/v2/images?limit=1000').json()['images']
    [mine] = [i for i in listed if i['id'] == image_id]
    assert 'x_admin_a' not in mine


@pytest.mark.parametrize('filter_value', [
    's3cret', 'in:s3cret', 'in:nope,s3cret', 'eq:s3cret', 'neq:nope'])
def test_unreadable_property_does_not_leak_through_filters(clients,
                                                           filter_value):
    # Were the image listed only when the guess is right, the filter
    # would read the value for the caller: it matches nothing instead.
    response = create(clients['admin'], x_secret_bill='s3cret',
                      x_thing='filter-leak')
    image_id = response.json()['id']
    path = ('/v2/images?x_thing=filter-leak&x_secret_bill=%s&limit=1000'
            % filter_value)
    for who in ('member', 'reader'):
        response = clients[who].get(path)
        assert response.status_code == 200
        assert image_id not in [i['id'] for i in response.json()['images']]
    # Who may read it still filters on it.
    if filter_value == 's3cret':
        listed = clients['admin'].get(path).json()['images']
        assert image_id in [i['id'] for i in listed]


def test_created_but_unreadable(clients):
    response = create(clients['member'], x_secret_a='s')
    assert response.status_code == 201
    image_id = response.json()['id']
    # The member may create it but not read it back.
    assert 'x_secret_a' not in response.json()
    assert 'x_secret_a' not in clients['member'].get(
        '/v2/images/%s' % image_id).json()
    assert clients['admin'].get('/v2/images/%s' % image_id) \
        .json()['x_secret_a'] == 's'


def test_update_and_delete(clients):
    image_id = create(clients['admin'], x_admin_a='a', x_thing='t',
                      x_frozen='f').json()['id']
    member, admin = clients['member'], clients['admin']
    assert patch(member, image_id, op('replace', 'x_admin_a', 'b')) \
        .status_code == 403
    assert patch(member, image_id, op('remove', 'x_admin_a')) \
        .status_code == 403
    assert patch(member, image_id, op('replace', 'x_thing', 'u')) \
        .status_code == 200
    assert patch(admin, image_id, op('replace', 'x_admin_a', 'b')) \
        .status_code == 200
    # Nobody updates or deletes x_frozen, not even an admin.
    for who in (admin, member):
        assert patch(who, image_id, op('replace', 'x_frozen', 'g')) \
            .status_code == 403
        assert patch(who, image_id, op('remove', 'x_frozen')).status_code \
            == 403
    assert patch(member, image_id, op('remove', 'x_thing')).status_code \
        == 200
    image = admin.get('/v2/images/%s' % image_id).json()
    assert image['x_admin_a'] == 'b' and image['x_frozen'] == 'f'
    assert 'x_thing' not in image


def test_unreadable_property_cannot_be_changed(clients):
    image_id = create(clients['admin'], x_secret_a='s').json()['id']
    member = clients['member']
    # Not visible to the member: replace/remove say it does not exist,
    # add is an update of a property the member cannot read.
    assert patch(member, image_id, op('replace', 'x_secret_a', 't')) \
        .status_code == 409
    assert patch(member, image_id, op('remove', 'x_secret_a')) \
        .status_code == 409
    assert patch(member, image_id, op('add', 'x_secret_a', 't')) \
        .status_code == 403
    # Other changes leave it alone.
    assert patch(member, image_id, op('add', 'x_other', 'o')).status_code \
        == 200
    image = clients['admin'].get('/v2/images/%s' % image_id).json()
    assert image['x_secret_a'] == 's' and image['x_other'] == 'o'


def test_base_attributes_are_not_protected(clients):
    image_id = create(clients['member']).json()['id']
    response = patch(clients['member'], image_id,
                     op('replace', 'name', 'renamed'),
                     op('add', 'min_ram', 512))
    assert response.status_code == 200


def test_upload_writes_reserved_bookkeeping(clients):
    """The service's own os_glance_* properties pass the protections."""
    image_id = create(clients['member'], disk_format='raw',
                      container_format='bare').json()['id']
    response = clients['member'].put(
        '/v2/images/%s/file' % image_id, data=b'x' * 1024,
        headers={'Content-Type': 'application/octet-stream'})
    assert response.status_code == 204
    image = clients['member'].get('/v2/images/%s' % image_id).json()
    assert image['status'] == 'active'


# -- start-up failures ----------------------------------------------------

def _start_fails(tmp_path, options):
    server = server_lib.Server('sqlite', options=options)
    try:
        with pytest.raises(server_lib.ServerError) as e:
            server.start()
        return str(e.value)
    finally:
        server.cleanup()


def test_missing_file_stops_the_service(tmp_path):
    path = str(tmp_path / 'missing.conf')
    message = _start_fails(tmp_path, {'DEFAULT': {
        'property_protection_file': path}})
    assert 'exited with 1' in message
    assert path in message and 'does not exist' in message


@pytest.mark.parametrize('rule_format,text,expected', [
    ('roles', 'create = admin\n', 'malformed'),
    ('roles', '[x_(]\ncreate = @\nread = @\nupdate = @\ndelete = @\n',
     'not a valid regular expression'),
    ('policies', '[.*]\ncreate = a,b\nread = @\nupdate = @\ndelete = @\n',
     'exactly one'),
    ('policies', '[.*]\ncreate = nonexistent_rule\nread = @\nupdate = @\n'
     'delete = @\n', 'nonexistent_rule'),
])
def test_malformed_file_stops_the_service(tmp_path, rule_format, text,
                                          expected):
    path = tmp_path / 'bad.conf'
    path.write_text(text)
    message = _start_fails(tmp_path, {'DEFAULT': {
        'property_protection_file': str(path),
        'property_protection_rule_format': rule_format}})
    assert 'exited with 1' in message
    assert expected in message and str(path) in message


def test_samples_start(tmp_path):
    etc = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc')
    path = os.path.abspath(os.path.join(
        etc, 'property-protections-roles.conf.sample'))
    server = server_lib.start_or_skip('sqlite', options={'DEFAULT': {
        'property_protection_file': path}})
    try:
        client = server.client('p', roles='member,reader')
        assert client.create_image(name='s', x_owner_a='1').status_code \
            == 201
        assert client.create_image(name='s', x_billing_a='1') \
            .status_code == 403
    finally:
        server.cleanup()
