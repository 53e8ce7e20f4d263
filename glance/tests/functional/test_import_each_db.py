"""The import's database work on SQLite, PostgreSQL and MariaDB/MySQL.

The start of an import (lock, task row, image status) is one
transaction whose concurrency guarantees differ per database: of
concurrent import calls exactly one may win everywhere. Tasks are
listed, paged and shown; a stale lock is broken.
"""

import concurrent.futures
import datetime
import random
import threading
import uuid

import pytest
import sqlalchemy as sa

from glance.tests.functional import import_helpers as h

SERVER_OPTIONS = {'DEFAULT': {'workers': 2}}


@pytest.fixture(scope='module')
def engine(api_server_each_db):
    engine = sa.create_engine(api_server_each_db.db_url,
                              poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def test_concurrent_imports(api_server_each_db):
    server = api_server_each_db
    owner = server.client(project_id='p1', roles='member,reader')
    images = []
    for _ in range(3):
        image = h.create_image(owner)
        assert h.stage(owner, image['id'], random.randbytes(100000)
                       ).status_code == 204
        images.append(image['id'])
    for image_id in images:
        barrier = threading.Barrier(5)

        def attempt(_):
            client = server.client(project_id='p1', roles='member,reader')
            try:
                barrier.wait()
                return h.import_image(client, image_id).status_code
            finally:
                client.close()

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            codes = sorted(pool.map(attempt, range(5)))
        assert codes == [202, 409, 409, 409, 409], codes
    for image_id in images:
        assert h.wait_task(owner, image_id)['status'] == 'success'
        assert len(h.tasks_of(owner, image_id)) == 1
        assert h.show(owner, image_id)['status'] == 'active'


def test_tasks_are_listed_and_paged(api_server_each_db):
    admin = api_server_each_db.client()
    for _ in range(3):
        image = h.create_image(admin)
        assert h.stage(admin, image['id'], b'abc').status_code == 204
        assert h.import_image(admin, image['id']).status_code == 202
        h.wait_status(admin, image['id'], 'active')
    page = admin.get('/v2/tasks?limit=2&sort_dir=asc').json()
    assert len(page['tasks']) == 2 and 'next' in page
    rest = admin.get(page['next']).json()
    ids = [t['id'] for t in page['tasks'] + rest['tasks']]
    assert len(ids) == len(set(ids)) >= 3
    one = admin.get('/v2/tasks/%s' % ids[0]).json()
    assert one['status'] == 'success' and one['input']['import_req']
    assert admin.get('/v2/tasks?marker=%s' % uuid.uuid4()).status_code == 400


def test_stale_lock_is_broken(api_server_each_db, engine):
    """A glance-direct import whose task died: the next import call
    breaks the lock, fails the task and returns the image to queued (the
    staged data of a dead import is not trusted); stage and import again.
    """
    client = api_server_each_db.client(project_id='p1',
                                       roles='member,reader')
    image = h.create_image(client)
    assert h.stage(client, image['id'], b'staged').status_code == 204
    dead = str(uuid.uuid4())
    seen = datetime.datetime.utcnow() - datetime.timedelta(hours=3)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO tasks (id, type, status, owner, image_id, input, "
            "message, created_at, updated_at, deleted) VALUES (:id, "
            "'api_image_import', 'pending', 'p1', :image, '{}', '', :seen, "
            ":seen, :false)"), {'id': dead, 'image': image['id'],
                                'seen': seen, 'false': False})
        conn.execute(sa.text(
            "INSERT INTO image_properties (image_id, name, value) VALUES "
            "(:image, 'os_glance_import_task', :task)"),
            {'image': image['id'], 'task': dead})
        conn.execute(sa.text(
            "UPDATE images SET status = 'importing' WHERE id = :image"),
            {'image': image['id']})
    response = h.import_image(client, image['id'])
    assert response.status_code == 409
    assert 'must be uploading' in response.json()['message']
    tasks = {t['id']: t for t in h.tasks_of(client, image['id'])}
    assert tasks[dead]['status'] == 'failure'
    assert 'abandoned' in tasks[dead]['message']
    assert h.show(client, image['id'])['status'] == 'queued'

    assert h.stage(client, image['id'], b'again').status_code == 204
    assert h.import_image(client, image['id']).status_code == 202
    assert h.wait_status(client, image['id'], 'active')['size'] == 5
