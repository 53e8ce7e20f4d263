"""python-glanceclient and openstacksdk, unmodified, against glance-api.

Without Keystone: glanceclient with an endpoint and any token (the
request then acts as the default identity), or with a keystoneauth
session whose noauth plugin names the endpoint and whose additional
headers carry the identity; openstacksdk with auth_type='none' and an
image endpoint override, or a Connection on such a session. Each runs
once more on the multi-store configuration.
"""

import hashlib
import io
import os
import random
import subprocess
import sys

import glanceclient
from glanceclient import exc as gc_exc
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
import openstack
from openstack import connection
from openstack import exceptions as sdk_exc
import pytest

from glance.tests.functional import server as server_lib

MiB = 1024 * 1024

MULTISTORE_OPTIONS = {
    'DEFAULT': {'enabled_backends': 'fast:file,cheap:file'},
    'glance_store': {'default_backend': 'fast'},
    'fast': {'store_description': 'Fast store', 'weight': 100},
    'cheap': {'store_description': 'Cheap store', 'weight': 10},
}


def data_of(size, seed=0):
    return random.Random(seed).randbytes(size)


def identity_session(server, project_id, roles='member,reader'):
    """A keystoneauth session acting as project_id through the identity
    headers of the no-Keystone flavor."""
    return ks_session.Session(
        auth=noauth.NoAuth(endpoint=server.url),
        additional_headers=server_lib.identity_headers(project_id,
                                                       roles=roles))


def sdk_connect(server):
    """openstacksdk without Keystone (and without any clouds.yaml or OS_*
    variables of the machine)."""
    return openstack.connect(auth_type='none',
                             image_endpoint_override=server.url,
                             load_yaml_config=False, load_envvars=False)


def store_file(server, image_id, store=None):
    parts = [server.state_path, 'images'] + ([store] if store else [])
    return os.path.join(*(parts + [image_id]))


def corrupt(path):
    """Flip one byte in the middle, keeping the size."""
    with open(path, 'r+b') as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, io.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))


@pytest.fixture(autouse=True)
def no_unexpected_errors(api_server_each_db):
    """Whatever a test does, the server never fails unexpectedly."""
    before = len(api_server_each_db.log_text())
    yield
    new_log = api_server_each_db.log_text()[before:]
    assert 'Unexpected error' not in new_log, new_log
    assert 'Traceback' not in new_log, new_log


@pytest.fixture(scope='module')
def multistore_server():
    server = server_lib.start_or_skip('sqlite', options=MULTISTORE_OPTIONS)
    yield server
    server.cleanup()


@pytest.fixture
def gc(api_server_each_db):
    return glanceclient.Client('2', endpoint=api_server_each_db.url, token='x')


@pytest.fixture
def sdk(api_server_each_db):
    conn = sdk_connect(api_server_each_db)
    yield conn
    conn.close()


# -- python-glanceclient -----------------------------------------------

def test_glanceclient_metadata_lifecycle(gc):
    image = gc.images.create(name='gc-life', disk_format='qcow2',
                             container_format='bare', tags=['one'],
                             os_distro='debian', min_ram=512)
    image_id = image['id']
    assert image['status'] == 'queued'
    assert image['os_distro'] == 'debian'
    other = gc.images.create(name='gc-life-other', disk_format='raw',
                             container_format='bare')
    shown = gc.images.get(image_id)
    assert shown['name'] == 'gc-life'
    assert shown['min_ram'] == 512
    assert shown['tags'] == ['one']

    # List with filters.
    def ids(**filters):
        return {i['id'] for i in gc.images.list(filters=filters)}
    assert ids(name='gc-life') == {image_id}
    assert image_id in ids(disk_format='qcow2')
    assert other['id'] not in ids(disk_format='qcow2')
    assert ids(tag=['one'], name='gc-life') == {image_id}
    assert ids(os_distro='debian') == {image_id}
    assert image_id in ids(status='queued')
    listed = list(gc.images.list(filters={'name': 'gc-life'},
                                 sort='name:asc', page_size=1))
    assert [i['id'] for i in listed] == [image_id]

    # Update: set, replace and remove properties.
    updated = gc.images.update(image_id, name='gc-life-2',
                               os_distro='ubuntu', hw_disk_bus='scsi')
    assert updated['name'] == 'gc-life-2'
    assert updated['os_distro'] == 'ubuntu'
    updated = gc.images.update(image_id, remove_props=['hw_disk_bus'])
    assert 'hw_disk_bus' not in updated

    # Tags.
    gc.image_tags.update(image_id, 'two')
    assert sorted(gc.images.get(image_id)['tags']) == ['one', 'two']
    gc.image_tags.delete(image_id, 'one')
    assert gc.images.get(image_id)['tags'] == ['two']
    with pytest.raises(gc_exc.HTTPNotFound):
        gc.image_tags.delete(image_id, 'one')

    # Deactivate / reactivate need an active image.
    with pytest.raises(gc_exc.HTTPForbidden):
        gc.images.deactivate(image_id)
    raw = gc.images.create(name='gc-life-raw', disk_format='raw',
                           container_format='bare')
    gc.images.upload(raw['id'], io.BytesIO(b'abc' * 1000))
    gc.images.deactivate(raw['id'])
    assert gc.images.get(raw['id'])['status'] == 'deactivated'
    gc.images.reactivate(raw['id'])
    assert gc.images.get(raw['id'])['status'] == 'active'

    # Delete.
    for i in (image_id, other['id'], raw['id']):
        gc.images.delete(i)
    with pytest.raises(gc_exc.HTTPNotFound):
        gc.images.get(image_id)
    with pytest.raises(gc_exc.HTTPNotFound):
        gc.images.delete(image_id)


@pytest.mark.parametrize('with_size', [False, True])
def test_glanceclient_upload_and_download(api_server_each_db, gc, with_size):
    data = data_of(3 * MiB + 7, seed=with_size)
    image = gc.images.create(name='gc-data', disk_format='raw',
                             container_format='bare')
    # No data yet: glanceclient gets 204 and returns None.
    empty = gc.images.data(image['id'])
    assert getattr(empty, '__wrapped__', empty) is None
    # A file object of unknown length goes out in 1 MiB chunks with
    # Transfer-Encoding: chunked; image_size adds x-openstack-image-size.
    gc.images.upload(image['id'], io.BytesIO(data),
                     image_size=len(data) if with_size else None)
    shown = gc.images.get(image['id'])
    assert shown['status'] == 'active'
    assert shown['size'] == len(data)
    assert shown['checksum'] == hashlib.md5(data).hexdigest()
    assert shown['os_hash_algo'] == 'sha512'
    assert shown['os_hash_value'] == hashlib.sha512(data).hexdigest()
    body = gc.images.data(image['id'])
    assert b''.join(body) == data
    # glanceclient verifies the data: a corrupted store file is caught.
    corrupt(store_file(api_server_each_db, image['id']))
    with pytest.raises(IOError):
        b''.join(gc.images.data(image['id']))
    with pytest.raises(IOError):
        b''.join(gc.images.data(image['id'], allow_md5_fallback=True))
    assert len(b''.join(gc.images.data(image['id'], do_checksum=False))) \
        == len(data)


def test_glanceclient_upload_errors(gc):
    image = gc.images.create(name='gc-errors', disk_format='qcow2',
                             container_format='bare')
    with pytest.raises(gc_exc.HTTPException) as info:
        gc.images.upload(image['id'], io.BytesIO(data_of(MiB)))
    # glanceclient has no class of its own for 415.
    assert 'does not match' in info.value.details, info.value.details
    assert gc.images.get(image['id'])['status'] == 'queued'
    with pytest.raises(gc_exc.HTTPBadRequest):
        gc.images.upload(image['id'], io.BytesIO(b'x' * 100),
                         image_size=50)
    assert gc.images.get(image['id'])['checksum'] is None
    raw = gc.images.create(name='gc-errors-raw', disk_format='raw',
                           container_format='bare')
    gc.images.upload(raw['id'], io.BytesIO(b'data'))
    with pytest.raises(gc_exc.HTTPConflict):
        gc.images.upload(raw['id'], io.BytesIO(b'more data'))
    assert b''.join(gc.images.data(raw['id'])) == b'data'


def test_glanceclient_with_identity_session(api_server_each_db):
    owner = glanceclient.Client(
        '2', session=identity_session(api_server_each_db, 'gc-project'))
    reader = glanceclient.Client(
        '2', session=identity_session(api_server_each_db, 'gc-project',
                                      'reader'))
    stranger = glanceclient.Client(
        '2', session=identity_session(api_server_each_db, 'gc-stranger'))
    image = owner.images.create(name='gc-owned', disk_format='raw',
                                container_format='bare',
                                visibility='private')
    assert image['owner'] == 'gc-project'
    data = data_of(MiB + 1, seed=3)
    owner.images.upload(image['id'], io.BytesIO(data))
    assert b''.join(owner.images.data(image['id'])) == data
    assert reader.images.get(image['id'])['status'] == 'active'
    with pytest.raises(gc_exc.HTTPForbidden):
        reader.images.data(image['id'])
    with pytest.raises(gc_exc.HTTPNotFound):
        stranger.images.data(image['id'])
    owner.images.deactivate(image['id'])
    with pytest.raises(gc_exc.HTTPForbidden):
        owner.images.data(image['id'])
    owner.images.reactivate(image['id'])
    assert b''.join(owner.images.data(image['id'])) == data
    owner.images.delete(image['id'])


def glance_cli(server, *args):
    """The glance command of python-glanceclient, without Keystone."""
    command = [os.path.join(os.path.dirname(sys.executable), 'glance'),
               '--os-image-url', server.url, '--os-auth-token', 'x']
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    return subprocess.run(command + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120,
                          env=env)


def test_glance_cli_upload_and_download(api_server_each_db, tmp_path):
    if not os.path.exists(os.path.join(os.path.dirname(sys.executable),
                                       'glance')):
        pytest.skip('the glance command is not installed')
    data = data_of(2 * MiB + 1, seed=31)
    source = tmp_path / 'in.img'
    source.write_bytes(data)
    gc = glanceclient.Client('2', endpoint=api_server_each_db.url, token='x')
    image = gc.images.create(name='cli-image', disk_format='raw',
                             container_format='bare')
    result = glance_cli(api_server_each_db, 'image-upload',
                        '--file', str(source),
                        image['id'])
    assert result.returncode == 0, result.stdout
    assert gc.images.get(image['id'])['checksum'] == \
        hashlib.md5(data).hexdigest()
    out = tmp_path / 'out.img'
    result = glance_cli(api_server_each_db, 'image-download',
                        '--file', str(out),
                        image['id'])
    assert result.returncode == 0, result.stdout
    assert out.read_bytes() == data
    # image-download verifies what it received.
    corrupt(store_file(api_server_each_db, image['id']))
    bad = tmp_path / 'bad.img'
    result = glance_cli(api_server_each_db, 'image-download',
                        '--file', str(bad),
                        image['id'])
    assert result.returncode != 0
    assert 'corrupt' in result.stdout.lower() or \
        'checksum' in result.stdout.lower() or \
        'hash' in result.stdout.lower(), result.stdout
    # image-create --file creates and uploads in one go.
    result = glance_cli(api_server_each_db, 'image-create', '--name', 'cli-2',
                        '--disk-format', 'raw', '--container-format',
                        'bare', '--file', str(source))
    assert result.returncode == 0, result.stdout
    created = [i for i in gc.images.list(filters={'name': 'cli-2'})]
    assert len(created) == 1
    assert created[0]['status'] == 'active'
    assert created[0]['os_hash_value'] == hashlib.sha512(data).hexdigest()


# -- openstacksdk ------------------------------------------------------

def test_sdk_image_lifecycle(api_server_each_db, sdk, tmp_path):
    data = data_of(2 * MiB + 3, seed=11)
    image = sdk.create_image('sdk-image', data=io.BytesIO(data),
                             disk_format='raw', container_format='bare',
                             tags=['sdk'], wait=True)
    assert image.status == 'active'
    assert image.size == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert image.hash_algo == 'sha512'
    assert image.hash_value == hashlib.sha512(data).hexdigest()

    fetched = sdk.image.get_image(image.id)
    assert fetched.name == 'sdk-image'
    assert fetched.tags == ['sdk']
    assert sdk.get_image('sdk-image').id == image.id
    names = [i.name for i in sdk.image.images(name='sdk-image')]
    assert names == ['sdk-image']
    assert image.id in [i.id for i in sdk.image.images(tag='sdk')]
    assert image.id in [i.id for i in sdk.list_images()]

    sdk.image.update_image_properties(image=image, os_distro='fedora',
                                      site_flavor='gold')
    fetched = sdk.image.get_image(image.id)
    assert fetched.os_distro == 'fedora'
    assert fetched.properties['site_flavor'] == 'gold'
    updated = sdk.image.update_image(image, min_ram=256)
    assert updated.min_ram == 256

    # Downloads, checked by the SDK against the image's hash.
    response = sdk.image.download_image(image)
    assert response.content == data
    out = tmp_path / 'out.img'
    sdk.download_image('sdk-image', output_path=str(out))
    assert out.read_bytes() == data
    buf = io.BytesIO()
    sdk.image.download_image(image, output=buf, chunk_size=65536)
    assert buf.getvalue() == data
    streamed = sdk.image.download_image(image, stream=True)
    assert b''.join(streamed.iter_content(MiB)) == data

    # A corrupted copy in the store is detected.
    corrupt(store_file(api_server_each_db, image.id))
    with pytest.raises(sdk_exc.InvalidResponse):
        sdk.image.download_image(image)

    assert sdk.delete_image(image.id, wait=True)
    assert sdk.get_image(image.id) is None
    with pytest.raises(sdk_exc.NotFoundException):
        sdk.image.get_image(image.id)


def test_sdk_create_image_from_file(api_server_each_db, sdk, tmp_path):
    data = data_of(MiB + 5, seed=12)
    path = tmp_path / 'disk.raw'
    path.write_bytes(data)
    image = sdk.create_image('sdk-file', filename=str(path),
                             disk_format='raw', container_format='bare',
                             validate_checksum=True, wait=True)
    assert image.status == 'active'
    assert image.checksum == hashlib.md5(data).hexdigest()
    # The SDK records the hashes it computed itself as properties.
    fetched = sdk.image.get_image(image.id)
    assert fetched.properties.get('owner_specified.openstack.md5') == \
        hashlib.md5(data).hexdigest()
    assert sdk.image.download_image(image).content == data
    sdk.image.delete_image(image)


def test_sdk_with_identity_session(api_server_each_db):
    sess = identity_session(api_server_each_db, 'sdk-project')
    conn = connection.Connection(session=sess,
                                 image_endpoint_override=(
                                     api_server_each_db.url))
    data = data_of(100000, seed=13)
    image = conn.image.create_image('sdk-owned', data=data,
                                    disk_format='raw',
                                    container_format='bare',
                                    visibility='private')
    image = conn.image.get_image(image.id)
    assert image.owner == 'sdk-project'
    assert image.status == 'active'
    assert conn.image.download_image(image).content == data
    reader = connection.Connection(
        session=identity_session(api_server_each_db, 'sdk-project', 'reader'),
        image_endpoint_override=api_server_each_db.url)
    # The SDK does not raise on the 403 itself (it would report a checksum
    # mismatch of the error page): look at the response.
    response = reader.image.download_image(image, stream=True)
    assert response.status_code == 403
    conn.image.delete_image(image)
    conn.close()
    reader.close()


# -- both on the multi-store configuration -----------------------------

def test_glanceclient_multistore(multistore_server):
    server = multistore_server
    gc = glanceclient.Client('2', endpoint=server.url, token='x')
    stores = {s['id']: s for s in gc.images.get_stores_info()['stores']}
    assert set(stores) == {'fast', 'cheap'}
    assert stores['fast'].get('default') == 'true'
    detail = {s['id']: s for s in
              gc.images.get_stores_info_detail()['stores']}
    assert detail['cheap']['weight'] == 10
    data = data_of(2 * MiB, seed=21)
    image = gc.images.create(name='gc-ms', disk_format='raw',
                             container_format='bare')
    gc.images.upload(image['id'], io.BytesIO(data), backend='cheap')
    shown = gc.images.get(image['id'])
    assert shown['stores'] == 'cheap'
    assert shown['os_hash_value'] == hashlib.sha512(data).hexdigest()
    assert os.path.exists(store_file(server, image['id'], 'cheap'))
    assert b''.join(gc.images.data(image['id'])) == data
    # The only copy: 403, as the reference answers.
    with pytest.raises(gc_exc.HTTPForbidden):
        gc.images.delete_from_store('cheap', image['id'])
    other = gc.images.create(name='gc-ms-default', disk_format='raw',
                             container_format='bare')
    gc.images.upload(other['id'], io.BytesIO(data), image_size=len(data))
    assert gc.images.get(other['id'])['stores'] == 'fast'
    with pytest.raises(gc_exc.HTTPBadRequest):
        queued = gc.images.create(name='gc-ms-bad', disk_format='raw',
                                  container_format='bare')
        gc.images.upload(queued['id'], io.BytesIO(data), backend='nowhere')
    for i in (image['id'], other['id']):
        gc.images.delete(i)
    assert not os.path.exists(store_file(server, image['id'], 'cheap'))


def test_sdk_multistore(multistore_server):
    server = multistore_server
    conn = sdk_connect(server)
    stores = {s.id: s for s in conn.image.stores()}
    assert set(stores) == {'fast', 'cheap'}
    assert stores['fast'].is_default
    data = data_of(MiB + 9, seed=22)
    image = conn.create_image('sdk-ms', data=io.BytesIO(data),
                              disk_format='raw', container_format='bare',
                              wait=True)
    assert image.status == 'active'
    fetched = conn.image.get_image(image.id)
    # (The SDK's Image has no stores attribute: read it raw.)
    assert conn.image.get('/images/%s' % image.id).json()['stores'] == \
        'fast'
    # update_image_properties works on a multi-store image.
    conn.image.update_image_properties(image=fetched, os_distro='arch')
    assert conn.image.get_image(image.id).os_distro == 'arch'
    assert conn.image.download_image(image).content == data
    conn.delete_image(image.id, wait=True)
    assert not os.path.exists(store_file(server, image.id, 'fast'))
    conn.close()
