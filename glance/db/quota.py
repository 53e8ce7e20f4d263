"""SQL of the per-project quotas: usage, the project's lock, reservations.

Usage is counted the way the reference service counts it: the data of an
image once for each of its locations, images that are gone (killed,
deleted, pending_delete) not at all, and an image being copied to more
stores (``os_glance_importing_to_stores`` set) as uploading and staged.

Two checks that run at once must not both see the room that only one of
them may take. So a check runs inside ``locked()``: a write transaction
that first updates the project's row of ``quota_locks``, which makes any
other check of the same project, in any process or node, wait until this
one has committed what it decided (the status change it guards and its
reservation). A reservation records the bytes an upload or a stage in
progress will use; it counts only while its image is still in the status
of that work (``HELD_WHILE``), so an upload that ends, fails or dies
stops counting by itself, and rows that no longer count are removed by
the next check.
"""

import contextlib

from oslo_db import exception as db_exc
import sqlalchemy as sa

from glance.db import engine
from glance.db import models
from glance.domain import image as domain

images = models.images
locations = models.image_locations
props = models.image_properties
locks = models.quota_locks
reservations = models.quota_reservations

GONE = ('killed', 'deleted', 'pending_delete')
UPLOADING = ('saving', 'uploading', 'importing')
IMPORTING_TO_STORES = 'os_glance_importing_to_stores'

# Reserved resource -> image statuses in which its reservation counts.
HELD_WHILE = {
    'image_size_total': ('saving',),
    'image_stage_total': ('uploading', 'importing'),
}


def _owned(project_id):
    return sa.and_(images.c.owner == project_id,
                   images.c.deleted == sa.false())


def _copying():
    """An image whose data is being copied to more stores."""
    return sa.and_(
        ~images.c.status.in_(UPLOADING + GONE),
        sa.exists().where(props.c.image_id == images.c.id,
                          props.c.name == IMPORTING_TO_STORES,
                          props.c.value != ''))


def _sum(column):
    return sa.func.coalesce(sa.func.sum(column), 0)


def _stored(project_id):
    """Bytes of image data the project keeps, once per location."""
    return (
        sa.select(_sum(images.c.size))
        .select_from(images.join(locations,
                                 locations.c.image_id == images.c.id))
        .where(_owned(project_id), images.c.size > 0,
               ~images.c.status.in_(GONE),
               locations.c.status != 'deleted')).scalar_subquery()


def _reserved(project_id, resource, except_image=None):
    """Bytes reserved for resource by work still in progress."""
    query = (
        sa.select(_sum(reservations.c.amount))
        .select_from(reservations.join(
            images, images.c.id == reservations.c.image_id))
        .where(reservations.c.project_id == project_id,
               reservations.c.resource == resource,
               images.c.deleted == sa.false(),
               images.c.status.in_(HELD_WHILE[resource])))
    if except_image is not None:
        query = query.where(reservations.c.image_id != except_image)
    return query.scalar_subquery()


def _being_copied(project_id):
    return (sa.select(_sum(images.c.size))
            .where(_owned(project_id), images.c.size > 0, _copying())
            .scalar_subquery())


# Each total is one statement, so one snapshot even under READ
# COMMITTED: an upload that ends meanwhile (its reservation stops
# counting as its data starts to) is counted exactly once.

def stored_bytes(session, project_id):
    """Bytes of stored image data, once per location."""
    return int(session.execute(sa.select(_stored(project_id))).scalar())


def size_bytes(session, project_id, except_image=None):
    """Stored bytes and bytes that uploads in progress reserved."""
    return int(session.execute(sa.select(
        _stored(project_id) +
        _reserved(project_id, 'image_size_total', except_image))).scalar())


def staged_bytes(session, project_id, except_image=None):
    """Bytes in staging: staged data, and images being copied."""
    return int(session.execute(sa.select(
        _being_copied(project_id) +
        _reserved(project_id, 'image_stage_total', except_image))).scalar())


def image_count(session, project_id):
    return session.execute(
        sa.select(sa.func.count()).select_from(images)
        .where(_owned(project_id), ~images.c.status.in_(GONE))).scalar()


def uploading_count(session, project_id):
    """Images being uploaded, staged, imported or copied."""
    return session.execute(
        sa.select(sa.func.count()).select_from(images)
        .where(_owned(project_id),
               sa.or_(images.c.status.in_(UPLOADING), _copying()))
    ).scalar()


@contextlib.contextmanager
def reading():
    with engine.reader() as session:
        yield session


def _ensure_lock_row(project_id):
    with engine.reader() as session:
        found = session.execute(sa.select(locks.c.project_id).where(
            locks.c.project_id == project_id)).first()
    if found is None:
        _insert_lock_row(project_id)


@engine.retry_on_busy
def _insert_lock_row(project_id):
    # Concurrent first checks of a project all try; one row results.
    try:
        with engine.writer() as session:
            session.execute(locks.insert().values(
                project_id=project_id, locked_at=domain.utcnow()))
    except db_exc.DBDuplicateEntry:
        pass


def _forget_finished(session, project_id):
    """Remove the project's reservations that no longer count."""
    still_held = sa.or_(*(
        sa.and_(reservations.c.resource == resource,
                images.c.status.in_(statuses))
        for resource, statuses in HELD_WHILE.items()))
    session.execute(reservations.delete().where(
        reservations.c.project_id == project_id,
        ~sa.exists().where(images.c.id == reservations.c.image_id,
                           images.c.deleted == sa.false(),
                           still_held)))


@contextlib.contextmanager
def locked(context, project_id):
    """A write transaction that holds the project's quota lock.

    Writes that the caller makes with the same context inside the block
    join this transaction, so they commit (or roll back) with the check.
    """
    _ensure_lock_row(project_id)
    with engine.writer(context) as session:
        session.execute(locks.update()
                        .where(locks.c.project_id == project_id)
                        .values(locked_at=domain.utcnow()))
        _forget_finished(session, project_id)
        yield session


def reserve(session, project_id, image_id, resource, amount):
    """Record amount as the image's reservation for resource."""
    session.execute(reservations.delete().where(
        reservations.c.image_id == image_id,
        reservations.c.resource == resource))
    session.execute(reservations.insert().values(
        project_id=project_id, image_id=image_id, resource=resource,
        amount=amount, created_at=domain.utcnow()))


def set_reserved(session, image_id, resource, amount):
    session.execute(reservations.update().where(
        reservations.c.image_id == image_id,
        reservations.c.resource == resource).values(amount=amount))


@engine.retry_on_busy
def settle(image_id, resource, amount):
    """Set a reservation to what the work really used."""
    with engine.writer() as session:
        set_reserved(session, image_id, resource, amount)
