"""SQL for tasks, and the atomic start of an import.

An import starts in one write transaction: the image must still be in the
status the request saw and must hold no import lock; the lock (the
os_glance_import_task property, unique per image), the task row, the new
image status and the bookkeeping properties are written together. Of two
concurrent imports, one commits and the other gets a Conflict (409): on
SQLite the write transactions are serialized (BEGIN IMMEDIATE), on
PostgreSQL and MariaDB the second INSERT of the lock property breaks the
(image_id, name) unique constraint, or the guarded status UPDATE finds no
row.
"""

import json

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import utils as db_utils
import sqlalchemy as sa

from glance.common import exception
from glance.db import engine
from glance.db import models
from glance.domain import image as domain_image
from glance.domain import task as domain_task

tasks = models.tasks
images = models.images
props = models.image_properties

LOCK_PROPERTY = 'os_glance_import_task'
SORT_KEYS = ('id', 'type', 'status', 'created_at', 'updated_at')


class TaskNotFound(exception.NotFound):
    def __init__(self, task_id):
        super().__init__('Task with the given id %s was not found.'
                         % task_id)


class ImportLocked(exception.Conflict):
    """The image holds the import lock of another task."""

    def __init__(self, image_id, holder):
        self.holder = holder
        super().__init__('Image %s has an import in progress (task %s); '
                         'wait for it to finish.' % (image_id, holder))


def _dumps(value):
    return None if value is None else json.dumps(value)


def _loads(text):
    if not text:
        return None if text is None else {}
    try:
        return json.loads(text)
    except ValueError:
        return {}


def _from_row(row):
    values = {name: getattr(row, name) for name in domain_task.ATTRIBUTES}
    values['input'] = _loads(row.input) or {}
    values['result'] = _loads(row.result)
    return domain_task.Task(**values)


def _row_values(task):
    values = {name: getattr(task, name) for name in domain_task.ATTRIBUTES}
    values['input'] = _dumps(task.input or {})
    values['result'] = _dumps(task.result)
    values['deleted'] = bool(task.deleted)
    return values


def _live_clause():
    """Not deleted and not expired."""
    return sa.and_(tasks.c.deleted == sa.false(),
                   sa.or_(tasks.c.expires_at.is_(None),
                          tasks.c.expires_at > domain_image.utcnow()))


@engine.retry_on_busy
def add(task):
    with engine.writer() as session:
        session.execute(tasks.insert().values(**_row_values(task)))
    return task


def get(task_id, include_expired=False):
    with engine.reader() as session:
        query = sa.select(tasks).where(tasks.c.id == task_id)
        if not include_expired:
            query = query.where(_live_clause())
        row = session.execute(query).first()
    if row is None:
        raise TaskNotFound(task_id)
    return _from_row(row)


def list_tasks(owner=None, status=None, task_type=None, marker=None,
               limit=25, sort_key='created_at', sort_dir='desc'):
    """A page of tasks; owner None means every project's."""
    with engine.reader() as session:
        query = session.query(tasks).filter(_live_clause())
        if owner is not None:
            query = query.filter(tasks.c.owner == owner)
        if status:
            query = query.filter(tasks.c.status == status)
        if task_type:
            query = query.filter(tasks.c.type == task_type)
        marker_row = None
        if marker is not None:
            marker_query = sa.select(tasks).where(tasks.c.id == marker,
                                                  _live_clause())
            if owner is not None:
                marker_query = marker_query.where(tasks.c.owner == owner)
            marker_row = session.execute(marker_query).first()
            if marker_row is None:
                raise exception.BadRequest('Invalid marker. Task %s could '
                                           'not be found.' % marker)
        keys = [sort_key] + [k for k in ('created_at', 'id')
                             if k != sort_key]
        query = db_utils.paginate_query(query, models.Task, limit, keys,
                                        marker=marker_row,
                                        sort_dirs=[sort_dir] * len(keys))
        return [_from_row(row) for row in query.all()]


def list_for_image(image_id, owner=None):
    with engine.reader() as session:
        query = sa.select(tasks).where(tasks.c.image_id == image_id,
                                       _live_clause())
        if owner is not None:
            query = query.where(tasks.c.owner == owner)
        query = query.order_by(tasks.c.created_at.desc(), tasks.c.id)
        return [_from_row(row) for row in session.execute(query)]


class TaskRepo:
    """The tasks a request context may see: its project's, or every
    project's for an admin. Tasks are never deleted through the API: they
    expire task_time_to_live hours after they finish."""

    def __init__(self, context):
        self.context = context

    def _owner(self):
        return None if self.context.is_admin else self.context.project_id

    def get(self, task_id):
        task = get(task_id)
        owner = self._owner()
        if owner is not None and task.owner != owner:
            raise TaskNotFound(task_id)
        return task

    def list(self, **filters):
        return list_tasks(owner=self._owner(), **filters)

    def list_for_image(self, image_id):
        # The caller's own tasks only, an admin's too: clients are written
        # against the reference, which answers so (the owner of an image
        # does not see an admin's copy-image task, nor the admin the
        # owner's import).
        return list_for_image(image_id, owner=self.context.project_id)

    def add(self, task):
        return add(task)

    def begin_import(self, task, image_id, expected_status, new_status=None,
                     properties=None):
        """The task of an import, written with the image's lock taken
        (see begin_import)."""
        return begin_import(task, image_id, expected_status, new_status,
                            properties)

    def remove(self, task_id):
        raise exception.MethodNotAllowed(
            'This operation is currently not permitted on Glance Tasks. '
            'They are auto deleted after reaching the time based on their '
            'expires_at property.', headers={'Allow': 'GET'})


@engine.retry_on_busy
def set_status(task_id, status, message=None, result=None, image_id=None):
    """Move a task on; False if it is no longer in a state that allows it.

    A finished task gets its expires_at.
    """
    allowed_from = [s for s, to in domain_task.TRANSITIONS.items()
                    if status in to]
    now = domain_image.utcnow()
    values = {'status': status, 'updated_at': now}
    if message is not None:
        values['message'] = message
    if result is not None:
        values['result'] = _dumps(result)
    if image_id is not None:
        values['image_id'] = image_id
    if status in ('success', 'failure'):
        values['expires_at'] = now + domain_task.time_to_live()
    with engine.writer() as session:
        done = session.execute(
            tasks.update().where(tasks.c.id == task_id,
                                 tasks.c.status.in_(allowed_from))
            .values(**values))
        return done.rowcount == 1


@engine.retry_on_busy
def set_message(task_id, message):
    """Report progress (and show the task is alive) while it runs."""
    with engine.writer() as session:
        session.execute(
            tasks.update().where(tasks.c.id == task_id,
                                 tasks.c.status.in_(domain_task.LIVE))
            .values(message=message, updated_at=domain_image.utcnow()))


@engine.retry_on_busy
def set_image_id(task_id, image_id):
    with engine.writer() as session:
        session.execute(tasks.update().where(tasks.c.id == task_id)
                        .values(image_id=image_id,
                                updated_at=domain_image.utcnow()))


@engine.retry_on_busy
def touch(task_ids):
    """Heartbeat of the tasks a process is running."""
    if not task_ids:
        return
    with engine.writer() as session:
        session.execute(
            tasks.update().where(tasks.c.id.in_(list(task_ids)),
                                 tasks.c.status.in_(domain_task.LIVE))
            .values(updated_at=domain_image.utcnow()))


def lock_holder(image_id):
    """The id of the task holding an image's import lock, or None."""
    with engine.reader() as session:
        return session.execute(
            sa.select(props.c.value).where(props.c.image_id == image_id,
                                           props.c.name == LOCK_PROPERTY)
        ).scalar()


def _set_properties(session, image_id, values):
    if not values:
        return
    session.execute(props.delete().where(props.c.image_id == image_id,
                                         props.c.name.in_(list(values))))
    session.execute(props.insert(), [
        {'image_id': image_id, 'name': name, 'value': value}
        for name, value in values.items()])


@engine.retry_on_busy
def begin_import(task, image_id, expected_status, new_status=None,
                 properties=None, insert_task=True):
    """Take the import lock for task, add the task, move the image on.

    Raises ImageNotFound, Conflict (the image moved on) or ImportLocked.
    """
    try:
        with engine.writer() as session:
            row = session.execute(
                sa.select(images.c.status).where(
                    images.c.id == image_id,
                    images.c.deleted == sa.false())).first()
            if row is None:
                raise exception.ImageNotFound(image_id)
            if row.status != expected_status:
                raise exception.Conflict(
                    'Image %s is %s, not %s.' % (image_id, row.status,
                                                 expected_status))
            holder = session.execute(
                sa.select(props.c.value).where(
                    props.c.image_id == image_id,
                    props.c.name == LOCK_PROPERTY)).scalar()
            if holder is not None:
                raise ImportLocked(image_id, holder)
            session.execute(props.insert().values(
                image_id=image_id, name=LOCK_PROPERTY, value=task.id))
            if insert_task:
                session.execute(tasks.insert().values(
                    **_row_values(task)))
            result = session.execute(
                images.update().where(images.c.id == image_id,
                                      images.c.status == expected_status,
                                      images.c.deleted == sa.false())
                .values(status=new_status or expected_status,
                        updated_at=domain_image.utcnow()))
            if result.rowcount != 1:
                raise exception.Conflict('Image %s changed while the import '
                                         'started; retry.' % image_id)
            _set_properties(session, image_id, properties)
    except db_exc.DBDuplicateEntry:
        raise exception.Conflict('Image %s has an import in progress.'
                                 % image_id)
    return task


@engine.retry_on_busy
def break_lock(image_id, holder, message, repair_status=None):
    """Take an import lock away from a dead task and fail that task.

    repair_status, when given, is the status an image left 'importing'
    goes back to. True if the lock was still the dead task's.
    """
    now = domain_image.utcnow()
    with engine.writer() as session:
        gone = session.execute(props.delete().where(
            props.c.image_id == image_id, props.c.name == LOCK_PROPERTY,
            props.c.value == holder))
        session.execute(
            tasks.update().where(tasks.c.id == holder,
                                 tasks.c.status.in_(domain_task.LIVE))
            .values(status='failure', message=message, updated_at=now,
                    expires_at=now + domain_task.time_to_live()))
        if repair_status is not None:
            session.execute(
                images.update().where(images.c.id == image_id,
                                      images.c.status == 'importing',
                                      images.c.deleted == sa.false())
                .values(status=repair_status, updated_at=now))
        return gone.rowcount == 1


def images_locked_by_host(host_property, host):
    """(image id, task id) of imports marked as run by host."""
    with engine.reader() as session:
        lock = props.alias('lock')
        host_prop = props.alias('host')
        query = sa.select(lock.c.image_id, lock.c.value).where(
            lock.c.name == LOCK_PROPERTY,
            host_prop.c.image_id == lock.c.image_id,
            host_prop.c.name == host_property,
            host_prop.c.value == host)
        return [(row[0], row[1]) for row in session.execute(query)]
