"""SQL for image members: the member repository of the data layer.

Which rows a caller sees: the image owner (and an admin) every member of
the image; any other project only its own membership. What it may do
with them is the policy layer's business.
"""

from oslo_config import cfg
from oslo_db import exception as db_exc
import sqlalchemy as sa

from glance.common import exception
from glance.db import engine
from glance.db import models
from glance.domain import image as domain_image
from glance.domain import member as domain

CONF = cfg.CONF

members = models.image_members
images = models.images


class MemberNotFound(exception.NotFound):
    def __init__(self, image_id, member_id):
        super().__init__('Member %s not found for image %s.'
                         % (member_id, image_id))


def _member(row):
    return domain.Member(image_id=row.image_id, member_id=row.member,
                         status=row.status, created_at=row.created_at,
                         updated_at=row.updated_at)


def status_of(image_id, project_id):
    """The membership status of project_id in the image, or None."""
    if project_id is None:
        return None
    with engine.reader() as session:
        return session.execute(
            sa.select(members.c.status).where(
                members.c.image_id == image_id,
                members.c.member == project_id)).scalar()


def count(session, image_id):
    return session.execute(
        sa.select(sa.func.count()).select_from(members)
        .where(members.c.image_id == image_id)).scalar()


def list_members(image_id, only=None):
    with engine.reader() as session:
        query = sa.select(members).where(members.c.image_id == image_id)
        if only is not None:
            query = query.where(members.c.member == only)
        query = query.order_by(members.c.created_at, members.c.id)
        return [_member(row) for row in session.execute(query)]


def get(image_id, member_id):
    with engine.reader() as session:
        row = session.execute(sa.select(members).where(
            members.c.image_id == image_id,
            members.c.member == member_id)).first()
    if row is None:
        raise MemberNotFound(image_id, member_id)
    return _member(row)


@engine.retry_on_busy
def add(image_id, member_id, check_count):
    """Insert a pending membership, with the checks made atomically.

    Inside one write transaction: the image must still be shared, the
    member new, and check_count(members it has) must not raise (the
    member quota).
    """
    now = domain_image.utcnow()
    try:
        with engine.writer() as session:
            visibility = session.execute(
                sa.select(images.c.visibility).where(
                    images.c.id == image_id,
                    images.c.deleted == sa.false())).scalar()
            if visibility is None:
                raise exception.ImageNotFound(image_id)
            domain.check_can_have_members(image_id, visibility)
            exists = session.execute(sa.select(members.c.id).where(
                members.c.image_id == image_id,
                members.c.member == member_id)).first()
            if exists is not None:
                raise exception.Duplicate(
                    'Member %s is already a member of image %s.'
                    % (member_id, image_id))
            check_count(count(session, image_id))
            session.execute(members.insert().values(
                image_id=image_id, member=member_id, status='pending',
                created_at=now, updated_at=now))
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate('Member %s is already a member of image '
                                  '%s.' % (member_id, image_id))
    return domain.Member(image_id=image_id, member_id=member_id,
                         status='pending', created_at=now, updated_at=now)


@engine.retry_on_busy
def update_status(member, status):
    now = domain_image.utcnow()
    with engine.writer() as session:
        result = session.execute(
            members.update().where(members.c.image_id == member.image_id,
                                   members.c.member == member.member_id)
            .values(status=status, updated_at=now))
    if result.rowcount != 1:
        raise MemberNotFound(member.image_id, member.member_id)
    member.status = status
    member.updated_at = now
    return member


@engine.retry_on_busy
def delete(member):
    """Hard delete: a removed membership leaves no row behind."""
    with engine.writer() as session:
        result = session.execute(members.delete().where(
            members.c.image_id == member.image_id,
            members.c.member == member.member_id))
    if result.rowcount != 1:
        raise MemberNotFound(member.image_id, member.member_id)


class MemberRepo:
    """The members of one image, as the calling project may see them."""

    def __init__(self, context, image, check_count):
        self.context = context
        self.image = image
        # The member quota: called with the members the image has.
        self.check_count = check_count

    @property
    def sees_all(self):
        return (self.context.is_admin or
                self.context.project_id == self.image.owner)

    def has_member(self, project_id):
        """Whether project_id is a member of the image (any status)."""
        return status_of(self.image.id, project_id) is not None

    def require_shared(self):
        """403 unless the image is shared (reference: before policy)."""
        domain.check_can_have_members(self.image.id, self.image.visibility)

    def list(self):
        self.require_shared()
        only = None if self.sees_all else self.context.project_id
        return list_members(self.image.id, only=only)

    def get(self, member_id):
        try:
            self.require_shared()
        except exception.Forbidden as e:
            # Showing one membership hides it rather than refuses it.
            raise exception.NotFound(e.message)
        if not self.sees_all and member_id != self.context.project_id:
            raise MemberNotFound(self.image.id, member_id)
        return get(self.image.id, member_id)

    def add(self, member_id):
        self.require_shared()
        domain.check_member_id(member_id)
        return add(self.image.id, member_id, self.check_count)

    def update_status(self, member, status):
        domain.check_status(status)
        return update_status(member, status)

    def remove(self, member):
        delete(member)
