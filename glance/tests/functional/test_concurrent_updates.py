"""Concurrent updates of one image, on every database backend.

Requests that change the same image at the same time must each get an
answer that makes sense: adding a tag is idempotent, so several clients
adding the same tag at once all get 204 (once 500s: the second insert of
the tag broke the unique key), and replacing the tag list or adding the
same property concurrently gives 200 to every client, with one of the
values winning.
"""

import collections
import threading

CLIENTS = 8
ROUNDS = 3


def _at_once(server, image_id, action):
    """action(client, index) from CLIENTS threads released together;
    a Counter of the status codes."""
    barrier = threading.Barrier(CLIENTS)
    codes = collections.Counter()
    lock = threading.Lock()

    def run(index):
        client = server.client(project_id='racers', roles='member,reader')
        try:
            barrier.wait(timeout=30)
            status = action(client, index).status_code
        except Exception as e:
            status = repr(e)
        finally:
            client.close()
        with lock:
            codes[status] += 1

    threads = [threading.Thread(target=run, args=(i,))
               for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


def test_same_tag_property_and_tag_list_at_once(api_server_each_db):
    server = api_server_each_db
    owner = server.client(project_id='racers', roles='member,reader')
    try:
        for round_ in range(ROUNDS):
            response = owner.create_image(name='race-%d' % round_)
            assert response.status_code == 201, response.text
            image_id = response.json()['id']
            path = '/v2/images/%s' % image_id

            codes = _at_once(server, image_id, lambda client, i: client.put(
                path + '/tags/same'))
            assert codes == {204: CLIENTS}, codes

            codes = _at_once(server, image_id, lambda client, i: client.patch(
                path, [{'op': 'add', 'path': '/racing', 'value': str(i)}]))
            assert codes == {200: CLIENTS}, codes

            codes = _at_once(server, image_id, lambda client, i: client.patch(
                path, [{'op': 'replace', 'path': '/tags',
                        'value': ['same', 'tag-%d' % i]}]))
            assert codes == {200: CLIENTS}, codes

            image = owner.get(path).json()
            assert image['racing'] in {str(i) for i in range(CLIENTS)}
            # Without If-Match, concurrent replacements of the list may
            # merge (each request writes its changes to what it loaded).
            offered = {'same'} | {'tag-%d' % i for i in range(CLIENTS)}
            assert 'same' in image['tags'], image
            assert set(image['tags']) <= offered, image
            listed = owner.get('/v2/images?tag=same&name=race-%d' % round_)
            assert [i['id'] for i in listed.json()['images']] == [image_id]
    finally:
        owner.close()
    assert server.log_errors() == ''
