"""SQL for images: the image repository of the data layer.

Every read here costs a fixed number of statements whatever the number of
images, properties and tags: one for the image rows, then one for the
properties, tags and locations of all of those images at once.
"""

import json

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import utils as db_utils
import sqlalchemy as sa

from glance.common import exception
from glance.db import engine
from glance.db import members as db_members
from glance.db import models
from glance.domain import image as domain

images = models.images
props = models.image_properties
tags_t = models.image_tags
members = models.image_members
locations = models.image_locations

SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')

_COLUMN_NAMES = tuple(c.name for c in images.c)


def _can_see_clause(context):
    """Images the caller may see (not necessarily listed by default)."""
    if context.is_admin:
        return sa.true()
    project = context.project_id
    member_of = sa.exists().where(members.c.image_id == images.c.id,
                                  members.c.member == project)
    return sa.or_(images.c.owner == project,
                  images.c.visibility.in_(('public', 'community')),
                  sa.and_(images.c.visibility == 'shared', member_of))


def _member_clause(project, member_status):
    clause = sa.exists().where(members.c.image_id == images.c.id,
                               members.c.member == project)
    if member_status != 'all':
        clause = sa.exists().where(members.c.image_id == images.c.id,
                                   members.c.member == project,
                                   members.c.status == member_status)
    return clause


def _list_visibility_clause(context, visibility, member_status):
    """Which images a list shows, as the reference lists them."""
    project = context.project_id
    own = images.c.owner == project
    vis = images.c.visibility
    shared_member = sa.and_(vis == 'shared',
                            _member_clause(project, member_status))
    if context.is_admin:
        if visibility in (None, ''):
            # Everything but other projects' community images.
            return sa.or_(vis != 'community', own)
        if visibility == 'all':
            return sa.true()
        return vis == visibility
    if visibility in (None, ''):
        return sa.or_(own, vis == 'public', shared_member)
    if visibility == 'all':
        return sa.or_(own, vis.in_(('public', 'community')), shared_member)
    if visibility == 'public':
        return vis == 'public'
    if visibility == 'community':
        return vis == 'community'
    if visibility == 'private':
        return sa.and_(vis == 'private', own)
    # shared
    return sa.and_(vis == 'shared', sa.or_(own, shared_member))


def _base_filter(column_name, op, value):
    column = images.c[column_name]
    if op == 'eq':
        return column == value
    if op == 'neq':
        return column != value
    if op == 'in':
        return column.in_(value)
    if op == 'gt':
        return column > value
    if op == 'gte':
        return column >= value
    if op == 'lt':
        return column < value
    if op == 'lte':
        return column <= value
    raise exception.BadRequest('Unknown filter operator %s' % op)


def _property_filter(name, value):
    return sa.exists().where(props.c.image_id == images.c.id,
                             props.c.name == name, props.c.value == value)


def _tag_filter(tag):
    return sa.exists().where(tags_t.c.image_id == images.c.id,
                             tags_t.c.value == tag)


# Statements of the hot read paths, built once: constructing them costs
# more than running them.
_IDS = sa.bindparam('ids', expanding=True)


def _children_statement():
    """Properties, tags and locations of images, in one statement.

    Columns: kind (p, t or l), image_id, a, b, c, d — a/b are name/value
    for a property, a is the value of a tag, and a/b/c/d are url,
    metadata, status and id of a location, in location order.
    """
    null = sa.null()
    kind = sa.literal_column
    return sa.union_all(
        sa.select(kind("'p'").label('kind'), props.c.image_id,
                  props.c.name.label('a'), props.c.value.label('b'),
                  sa.cast(null, sa.String(30)).label('c'),
                  sa.cast(null, sa.Integer).label('d'),
                  sa.cast(null, sa.Integer).label('pos'))
        .where(props.c.image_id.in_(_IDS)),
        sa.select(kind("'t'"), tags_t.c.image_id, tags_t.c.value, null,
                  null, null, null)
        .where(tags_t.c.image_id.in_(_IDS)),
        sa.select(kind("'l'"), locations.c.image_id, locations.c.url,
                  locations.c.meta_data, locations.c.status, locations.c.id,
                  locations.c.position)
        .where(locations.c.image_id.in_(_IDS)),
    ).order_by(sa.text('pos'), sa.text('d'))


_CHILDREN_OF = _children_statement()
_LIVE_BY_ID = sa.select(images).where(images.c.id == sa.bindparam('id'),
                                      images.c.deleted == sa.false())
_VISIBLE_BY_ID = _LIVE_BY_ID.where(sa.or_(
    images.c.owner == sa.bindparam('project'),
    images.c.visibility.in_(('public', 'community')),
    sa.and_(images.c.visibility == 'shared',
            sa.exists().where(members.c.image_id == images.c.id,
                              members.c.member == sa.bindparam('project')))))


def _load_children(session, rows):
    """Build domain images for rows, with one more statement."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    extra = {image_id: {} for image_id in ids}
    tag_sets = {image_id: set() for image_id in ids}
    locs = {image_id: [] for image_id in ids}
    for kind, image_id, a, b, status, loc_id, _pos in session.execute(
            _CHILDREN_OF, {'ids': ids}):
        if kind == 'p':
            extra[image_id][a] = b
        elif kind == 't':
            tag_sets[image_id].add(a)
        else:
            locs[image_id].append({'id': loc_id, 'url': a,
                                   'metadata': json.loads(b or '{}'),
                                   'status': status})
    names = domain.BASE_ATTRIBUTES
    result = []
    for row in rows:
        values = dict(zip(names, (getattr(row, name) for name in names)))
        values['extra_properties'] = extra[row.id]
        values['tags'] = tag_sets[row.id]
        values['locations'] = locs[row.id]
        result.append(domain.Image(**values))
    return result


def _fetch_row(session, context, image_id):
    if context.is_admin:
        return session.execute(_LIVE_BY_ID, {'id': image_id}).first()
    return session.execute(_VISIBLE_BY_ID, {
        'id': image_id, 'project': context.project_id}).first()


def get(context, image_id):
    """The image if the caller may see it; ImageNotFound otherwise."""
    with engine.read_connection(context) as session:
        row = _fetch_row(session, context, image_id)
        if row is None:
            raise exception.ImageNotFound(image_id)
        return _load_children(session, [row])[0]


def get_any(image_id, include_deleted=False):
    """The image whoever owns it (for the service's own bookkeeping)."""
    with engine.reader() as session:
        query = sa.select(images).where(images.c.id == image_id)
        if not include_deleted:
            query = query.where(images.c.deleted == sa.false())
        row = session.execute(query).first()
        if row is None:
            raise exception.ImageNotFound(image_id)
        return _load_children(session, [row])[0]


def list_images(context, filters=(), properties=None, tags=(),
                visibility=None, member_status='accepted', marker=None,
                limit=25, sort_keys=('created_at',), sort_dirs=('desc',)):
    """One page of images; filters are (column, op, value) triples."""
    with engine.reader(context) as session:
        query = session.query(images).filter(
            images.c.deleted == sa.false(),
            _list_visibility_clause(context, visibility, member_status))
        for column_name, op, value in filters:
            query = query.filter(_base_filter(column_name, op, value))
        for name, value in (properties or {}).items():
            query = query.filter(_property_filter(name, value))
        for tag in tags:
            query = query.filter(_tag_filter(tag))

        marker_row = None
        if marker is not None:
            marker_row = session.execute(
                sa.select(images).where(
                    images.c.id == marker,
                    _can_see_clause(context))).first()
            if marker_row is None:
                raise exception.BadRequest('No image found with ID %s'
                                           % marker)
        keys, dirs = list(sort_keys), list(sort_dirs)
        for key in ('created_at', 'id'):
            if key not in keys:
                keys.append(key)
                dirs.append(dirs[-1] if dirs else 'desc')
        query = db_utils.paginate_query(query, models.Image, limit, keys,
                                        marker=marker_row, sort_dirs=dirs)
        rows = query.all()
        return _load_children(session, rows)


def _property_rows(image_id, mapping):
    return [{'image_id': image_id, 'name': name, 'value': value}
            for name, value in mapping.items()]


def _tag_rows(image_id, values):
    return [{'image_id': image_id, 'value': value} for value in values]


def _base_values(image):
    return {name: getattr(image, name) for name in domain.BASE_ATTRIBUTES}


@engine.retry_on_busy
def add(context, image):
    try:
        with engine.writer(context) as session:
            session.execute(images.insert().values(deleted=False,
                                                   **_base_values(image)))
            if image.extra_properties:
                session.execute(props.insert(), _property_rows(
                    image.id, image.extra_properties))
            if image.tags:
                session.execute(tags_t.insert(),
                                _tag_rows(image.id, image.tags))
    except db_exc.DBDuplicateEntry:
        raise exception.Duplicate('An image with identifier %s already '
                                  'exists' % image.id)
    image.mark_clean()
    return image


def _guarded_update(session, image, values):
    """UPDATE the image row only if its status is still the loaded one.

    This is what makes concurrent state changes safe: of two requests
    that loaded a queued image and both move it on, one matches no row.
    """
    result = session.execute(
        images.update()
        .where(images.c.id == image.id,
               images.c.deleted == sa.false(),
               images.c.status == image.loaded_status)
        .values(**values))
    if result.rowcount == 1:
        return
    current = session.execute(
        sa.select(images.c.status, images.c.deleted)
        .where(images.c.id == image.id)).first()
    if current is None or current.deleted:
        raise exception.ImageNotFound(image.id)
    raise exception.Conflict('Image %s changed status to %s while this '
                             'request ran; retry.' % (image.id,
                                                      current.status))


@engine.retry_on_busy
def save(context, image):
    image.updated_at = domain.utcnow()
    values = _base_values(image)
    del values['id'], values['created_at']
    changed, removed = image.property_changes()
    added_tags, removed_tags = image.tag_changes()
    with engine.writer(context) as session:
        _guarded_update(session, image, values)
        stale = list(changed) + removed
        if stale:
            session.execute(props.delete().where(
                props.c.image_id == image.id, props.c.name.in_(stale)))
        if changed:
            session.execute(props.insert(), _property_rows(image.id,
                                                           changed))
        # Added tags too, as for properties: a concurrent request that
        # added the same tag has committed by now (the guarded update
        # waited for it), and its row must not make this insert fail.
        stale_tags = removed_tags | added_tags
        if stale_tags:
            session.execute(tags_t.delete().where(
                tags_t.c.image_id == image.id,
                tags_t.c.value.in_(stale_tags)))
        if added_tags:
            session.execute(tags_t.insert(), _tag_rows(image.id,
                                                       added_tags))
        _save_locations(session, image)
    image.mark_clean()
    return image


def _save_locations(session, image):
    added, removed = image.location_changes()
    if removed:
        session.execute(locations.delete().where(
            locations.c.image_id == image.id,
            locations.c.id.in_(removed)))
    now = domain.utcnow()
    for position, loc in enumerate(image.locations):
        if 'id' in loc:
            continue
        result = session.execute(locations.insert().values(
            image_id=image.id, url=loc['url'],
            meta_data=json.dumps(loc.get('metadata') or {}),
            status=loc.get('status', 'active'), position=position,
            created_at=now, updated_at=now))
        loc['id'] = result.inserted_primary_key[0]


def touch(image_id, status):
    """Refresh updated_at of an image still in status (a heartbeat)."""
    with engine.writer() as session:
        result = session.execute(
            images.update().where(images.c.id == image_id,
                                  images.c.status == status,
                                  images.c.deleted == sa.false())
            .values(updated_at=domain.utcnow()))
        return result.rowcount == 1


def find_by_host(status, host_property, host):
    """Ids of images in status whose host_property names host (the node
    that was uploading or staging them)."""
    with engine.reader() as session:
        query = sa.select(images.c.id).where(
            images.c.status == status, images.c.deleted == sa.false(),
            sa.exists().where(props.c.image_id == images.c.id,
                              props.c.name == host_property,
                              props.c.value == host))
        return [row.id for row in session.execute(query)]


@engine.retry_on_busy
def remove(context, image):
    """Soft-delete: the row stays so its id is never reused.

    A pending_delete image is deleted for users too; the scrubber finds it
    by its status.
    """
    now = domain.utcnow()
    with engine.writer(context) as session:
        _guarded_update(session, image, {
            'status': image.status, 'deleted': True,
            'deleted_at': now, 'updated_at': now})
    image.mark_clean()


class ImageRepo:
    """The data layer's image repository, bound to one request."""

    def __init__(self, context):
        self.context = context

    def get(self, image_id):
        return get(self.context, image_id)

    def list(self, **kwargs):
        return list_images(self.context, **kwargs)

    def add(self, image):
        return add(self.context, image)

    def save(self, image):
        return save(self.context, image)

    def member_status(self, image_id):
        """The caller's project's membership status in the image."""
        return db_members.status_of(image_id, self.context.project_id)

    def remove(self, image):
        return remove(self.context, image)


def pending_delete(before, limit=100):
    """Images waiting for the scrubber, deleted before the given time."""
    with engine.reader() as session:
        rows = session.execute(
            sa.select(images).where(images.c.status == 'pending_delete',
                                    images.c.deleted_at <= before)
            .order_by(images.c.deleted_at).limit(limit)).all()
        return _load_children(session, rows)


@engine.retry_on_busy
def finish_scrub(image_id):
    """pending_delete -> deleted; False if someone else finished it."""
    with engine.writer() as session:
        result = session.execute(
            images.update().where(images.c.id == image_id,
                                  images.c.status == 'pending_delete')
            .values(status='deleted', updated_at=domain.utcnow()))
        return result.rowcount == 1


@engine.retry_on_busy
def set_hashes(image_id, checksum, algorithm, value):
    """Record hashes computed after the fact, unless some are set."""
    with engine.writer() as session:
        session.execute(images.update().where(
            images.c.id == image_id, images.c.os_hash_value.is_(None))
            .values(checksum=checksum, os_hash_algo=algorithm,
                    os_hash_value=value))
