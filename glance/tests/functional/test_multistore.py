"""Multiple stores against a real glance-api process.

enabled_backends = fast:file,cheap:file with [glance_store] default_backend
= fast: the stores attribute, the OpenStack-image-store-ids header,
X-Image-Meta-Store on upload, /v2/info/stores(/detail), deleting an image
from one store, the versions list, and downloads that fall back from a
store whose data is gone to another one.
"""

import datetime
import hashlib
import json
import os
import random
import shutil

import pytest
import sqlalchemy as sa

MiB = 1024 * 1024
OCTET = {'Content-Type': 'application/octet-stream'}

SERVER_OPTIONS = {
    'DEFAULT': {'enabled_backends': 'fast:file,cheap:file'},
    'glance_store': {'default_backend': 'fast'},
    # The fast store is tried first when an image is in both.
    'fast': {'store_description': 'Fast store', 'weight': 100},
    'cheap': {'store_description': 'Cheap store', 'weight': 10},
}

MEMBER = dict(project_id='ms-project', roles='member,reader')


def data_of(size, seed=0):
    return random.Random(seed).randbytes(size)


def create_image(client, headers=None, **values):
    body = {'name': 'multistore', 'disk_format': 'raw',
            'container_format': 'bare'}
    body.update(values)
    response = client.post('/v2/images', json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


def put_file(client, image_id, data, store=None):
    headers = dict(OCTET)
    if store is not None:
        headers['X-Image-Meta-Store'] = store
    return client.put('/v2/images/%s/file' % image_id, data=data,
                      headers=headers)


def show(client, image_id):
    response = client.get('/v2/images/%s' % image_id)
    assert response.status_code == 200, response.text
    return response.json()


def store_path(server, store, image_id=''):
    return os.path.join(server.state_path, 'images', store, image_id)


def files_of(server, store, image_id):
    return sorted(n for n in os.listdir(store_path(server, store))
                  if n.startswith(image_id))


def download(client, image_id, **kwargs):
    return client.get('/v2/images/%s/file' % image_id, **kwargs)


def add_location(server, image_id, store, url):
    """A second location, as copy-image would add it (straight into the
    database: this server has no other way to put an image in two stores
    at once)."""
    from glance.db import models

    engine = sa.create_engine(server.db_url)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    try:
        with engine.begin() as conn:
            position = conn.execute(
                sa.select(sa.func.count()).select_from(
                    models.image_locations).where(
                    models.image_locations.c.image_id == image_id)
            ).scalar()
            conn.execute(models.image_locations.insert().values(
                image_id=image_id, url=url,
                meta_data=json.dumps({'store': store}), status='active',
                position=position, created_at=now, updated_at=now))
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def no_unexpected_errors(api_server):
    """Whatever a test does, the server never fails unexpectedly."""
    before = len(api_server.log_text())
    yield
    new_log = api_server.log_text()[before:]
    assert 'Unexpected error' not in new_log, new_log
    assert 'Traceback' not in new_log, new_log


@pytest.fixture
def client(api_server):
    c = api_server.client()
    yield c
    c.close()


@pytest.fixture
def member(api_server):
    c = api_server.client(**MEMBER)
    yield c
    c.close()


def test_versions_include_multistore_versions(client):
    response = client.get('/versions')
    assert response.status_code == 200
    ids = {v['id'] for v in response.json()['versions']}
    for minor in range(8, 14):
        assert 'v2.%d' % minor in ids
    current = [v['id'] for v in response.json()['versions']
               if v['status'] == 'CURRENT']
    assert current == ['v2.17']


def test_create_header_and_stores_attribute(api_server, client):
    response = create_image(client)
    assert response.headers['OpenStack-image-store-ids'] == 'fast,cheap'
    image = response.json()
    # A queued image without data has no "stores" key, as the reference.
    assert 'stores' not in image
    assert 'stores' not in show(client, image['id'])
    listed = client.get('/v2/images?id=%s' % image['id']).json()['images']
    assert 'stores' not in listed[0]
    data = data_of(MiB + 11)
    assert put_file(client, image['id'], data).status_code == 204
    shown = show(client, image['id'])
    assert shown['stores'] == 'fast'
    assert shown['status'] == 'active'
    assert shown['checksum'] == hashlib.md5(data).hexdigest()
    assert shown['os_hash_value'] == hashlib.sha512(data).hexdigest()
    assert files_of(api_server, 'fast', image['id']) == [image['id']]
    assert files_of(api_server, 'cheap', image['id']) == []
    assert download(client, image['id']).content == data
    # The list shows the attribute too.
    listed = client.get('/v2/images?id=%s' % image['id']).json()['images']
    assert listed[0]['stores'] == 'fast'


def test_upload_to_named_store(api_server, member):
    image = create_image(member).json()
    data = data_of(2 * MiB, seed=1)
    response = put_file(member, image['id'], data, store='cheap')
    assert response.status_code == 204, response.text
    shown = show(member, image['id'])
    assert shown['stores'] == 'cheap'
    assert files_of(api_server, 'cheap', image['id']) == [image['id']]
    assert files_of(api_server, 'fast', image['id']) == []
    with open(store_path(api_server, 'cheap', image['id']), 'rb') as f:
        assert f.read() == data
    response = download(member, image['id'], headers={'Range': 'bytes=-10'})
    assert response.status_code == 206
    assert response.content == data[-10:]
    assert response.headers['Content-MD5'] == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize('store', ['nowhere', 'os_glance_staging_store',
                                   'os_glance_tasks_store', ''])
def test_upload_to_unknown_store(api_server, client, store):
    image = create_image(client).json()
    response = put_file(client, image['id'], data_of(MiB), store=store)
    assert response.status_code == 400, response.text
    shown = show(client, image['id'])
    assert shown['status'] == 'queued'
    assert shown['checksum'] is None
    for name in ('fast', 'cheap'):
        assert files_of(api_server, name, image['id']) == []
    # Retry with a real store.
    data = data_of(MiB, seed=4)
    assert put_file(client, image['id'], data, store='cheap').status_code \
        == 204
    assert show(client, image['id'])['stores'] == 'cheap'


def test_info_stores(client, member):
    for c in (client, member):
        response = c.get('/v2/info/stores')
        assert response.status_code == 200, response.text
        stores = {s['id']: s for s in response.json()['stores']}
        assert set(stores) == {'fast', 'cheap'}
        assert stores['fast']['description'] == 'Fast store'
        assert stores['fast']['default'] == 'true'
        assert stores['cheap']['description'] == 'Cheap store'
        assert 'default' not in stores['cheap']
        assert 'weight' not in stores['fast']


def test_info_stores_detail(api_server, client, member):
    response = client.get('/v2/info/stores/detail')
    assert response.status_code == 200, response.text
    stores = {s['id']: s for s in response.json()['stores']}
    assert set(stores) == {'fast', 'cheap'}
    assert stores['fast']['type'] == 'file'
    assert stores['fast']['weight'] == 100
    assert stores['cheap']['weight'] == 10
    assert stores['fast']['default'] == 'true'
    assert os.path.realpath(stores['cheap']['properties']['data_dir']) == \
        os.path.realpath(store_path(api_server, 'cheap'))
    response = member.get('/v2/info/stores/detail')
    assert response.status_code == 403
    service = api_server.client(project_id='svc', roles='service')
    assert service.get('/v2/info/stores/detail').status_code == 200
    service.close()


def test_delete_from_store_refuses_last_location(api_server, client):
    image = create_image(client).json()
    data = data_of(1000)
    assert put_file(client, image['id'], data, store='cheap').status_code \
        == 204
    # The only copy: 403, as the reference answers; asked of a store that
    # does not hold it, the same (the only-copy check comes first).
    response = client.delete('/v2/stores/cheap/%s' % image['id'])
    assert response.status_code == 403, response.text
    assert 'only store' in response.json()['message']
    assert client.delete('/v2/stores/fast/%s' % image['id']).status_code \
        == 403
    # A store this node does not have: 409, as the reference.
    assert client.delete('/v2/stores/nowhere/%s' % image['id']) \
        .status_code == 409
    assert files_of(api_server, 'cheap', image['id']) == [image['id']]
    assert download(client, image['id']).content == data
    # A queued image has nothing to remove.
    queued = create_image(client).json()
    response = client.delete('/v2/stores/cheap/%s' % queued['id'])
    assert response.status_code == 409


def test_download_falls_back_when_a_store_lost_the_data(api_server, client,
                                                        member):
    image = create_image(member).json()
    data = data_of(3 * MiB + 1, seed=9)
    assert put_file(member, image['id'], data, store='cheap').status_code \
        == 204
    # A copy in the fast store too (weight 100: read first).
    fast_file = store_path(api_server, 'fast', image['id'])
    shutil.copyfile(store_path(api_server, 'cheap', image['id']), fast_file)
    add_location(api_server, image['id'], 'fast', 'file://' + fast_file)
    shown = show(member, image['id'])
    assert shown['stores'] == 'cheap,fast'
    assert download(member, image['id']).content == data
    # The fast store loses the data: the cheap one serves it.
    os.unlink(fast_file)
    response = download(member, image['id'])
    assert response.status_code == 200
    assert response.content == data
    assert response.headers['Content-MD5'] == hashlib.md5(data).hexdigest()
    response = download(member, image['id'],
                        headers={'Range': 'bytes=100-199'})
    assert response.status_code == 206
    assert response.content == data[100:200]
    assert fast_file in api_server.log_text()
    # Removing the image from a store is for admins; not the last copy.
    assert member.delete('/v2/stores/fast/%s' % image['id']).status_code \
        == 403
    response = client.delete('/v2/stores/fast/%s' % image['id'])
    assert response.status_code == 204, response.text
    assert show(member, image['id'])['stores'] == 'cheap'
    assert client.delete('/v2/stores/cheap/%s' % image['id']).status_code \
        == 403
    assert download(member, image['id']).content == data


def test_delete_from_store_removes_the_data(api_server, client):
    image = create_image(client).json()
    data = data_of(5000, seed=3)
    assert put_file(client, image['id'], data).status_code == 204
    cheap_file = store_path(api_server, 'cheap', image['id'])
    shutil.copyfile(store_path(api_server, 'fast', image['id']), cheap_file)
    add_location(api_server, image['id'], 'cheap', 'file://' + cheap_file)
    assert show(client, image['id'])['stores'] == 'fast,cheap'
    response = client.delete('/v2/stores/fast/%s' % image['id'])
    assert response.status_code == 204
    assert files_of(api_server, 'fast', image['id']) == []
    assert show(client, image['id'])['stores'] == 'cheap'
    assert download(client, image['id']).content == data
    # Deleting the image removes the data in every store it is in.
    assert client.delete('/v2/images/%s' % image['id']).status_code == 204
    assert files_of(api_server, 'cheap', image['id']) == []


def test_delete_image_removes_data_from_every_store(api_server, client):
    image = create_image(client).json()
    assert put_file(client, image['id'], data_of(100)).status_code == 204
    other = store_path(api_server, 'cheap', image['id'])
    shutil.copyfile(store_path(api_server, 'fast', image['id']), other)
    add_location(api_server, image['id'], 'cheap', 'file://' + other)
    assert client.delete('/v2/images/%s' % image['id']).status_code == 204
    assert files_of(api_server, 'fast', image['id']) == []
    assert files_of(api_server, 'cheap', image['id']) == []
    assert client.get('/v2/images/%s' % image['id']).status_code == 404
