"""The legacy quotas (no unified limits), under concurrency, on each
database: user_storage_quota holds when many uploads of one project run
at once in two worker processes, and the per-image quotas still apply."""

import concurrent.futures
import os

import pytest

from glance.tests.functional import server as server_lib

MiB = 1024 * 1024
OCTET = {'Content-Type': 'application/octet-stream'}


@pytest.fixture(scope='module', params=list(server_lib.BACKENDS))
def legacy_server(request):
    server = server_lib.start_or_skip(
        request.param, workers=2, threads=8, options={'DEFAULT': {
            'user_storage_quota': '5MiB',
            'image_location_quota': 1,
            'image_member_quota': 1,
        }})
    yield server
    server.cleanup_in_background()


def new_image(client):
    response = client.create_image(name='legacy', disk_format='raw',
                                   container_format='bare')
    assert response.status_code == 201, response.text
    return response.json()['id']


def test_parallel_uploads_keep_to_user_storage_quota(legacy_server):
    clients = [legacy_server.client(project_id='legacy-race',
                                    roles='member,reader')
               for _ in range(20)]
    image_ids = [new_image(clients[0]) for _ in range(20)]
    data = b'q' * MiB

    def upload(pair):
        client, image_id = pair
        return client.put('/v2/images/%s/file' % image_id, data=data,
                          headers=OCTET).status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(upload, zip(clients, image_ids)))
    assert codes.count(204) == 5, codes
    assert codes.count(413) == 15, codes
    statuses = [clients[0].get('/v2/images/%s' % i).json()['status']
                for i in image_ids]
    assert statuses.count('active') == 5
    assert statuses.count('queued') == 15
    store = os.path.join(legacy_server.state_path, 'images')
    assert len(os.listdir(store)) == 5
    for client in clients:
        client.close()


def test_member_quota_still_applies(legacy_server):
    client = legacy_server.client(project_id='legacy-members',
                                  roles='member,reader')
    image_id = new_image(client)
    response = client.patch('/v2/images/%s' % image_id, [
        {'op': 'replace', 'path': '/visibility', 'value': 'shared'}])
    assert response.status_code == 200, response.text
    path = '/v2/images/%s/members' % image_id
    assert client.post(path, json={'member': 'a'}).status_code == 200
    response = client.post(path, json={'member': 'b'})
    assert response.status_code == 413
    assert 'Maximum number of members per image (1)' in response.text
    client.close()
