"""Two API nodes sharing one database, each with its own staging area.

Data staged on node A and imported through node B: B sends the import
on to A (worker_self_reference_url, os_glance_stage_host), which holds
the staged data and runs the import.
"""

import hashlib
import random

import pytest

from glance.tests.functional import import_helpers as h
from glance.tests.functional import server as server_lib


@pytest.fixture(scope='module')
def nodes():
    a = server_lib.Server('sqlite')
    b = None
    try:
        a.port = server_lib.free_port()
        a.options = {'DEFAULT': {'worker_self_reference_url': a.url}}
        a.start()
        b = server_lib.Server('sqlite')
        b.port = server_lib.free_port()
        b.options = {'DEFAULT': {'worker_self_reference_url': b.url},
                     'database': {'connection': a.db_url}}
        b.start()
        yield a, b
    finally:
        for node in (a, b):
            if node is not None:
                node.cleanup_in_background()


def test_import_reaches_the_node_with_the_staged_data(nodes):
    a, b = nodes
    on_a = a.client(project_id='p1', roles='member,reader')
    on_b = b.client(project_id='p1', roles='member,reader')
    data = random.Random(1).randbytes(500000)
    image = h.create_image(on_a)
    assert h.stage(on_a, image['id'], data).status_code == 204
    assert h.staging_files(a, image['id'])
    assert h.staging_files(b, image['id']) == []
    assert h.show(on_b, image['id'])['status'] == 'uploading'

    response = h.import_image(on_b, image['id'])
    assert response.status_code == 202, response.text
    image = h.wait_status(on_b, image['id'], 'active')
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    assert on_b.get('/v2/images/%s/file' % image['id']).content == data
    assert h.staging_files(a, image['id']) == []
