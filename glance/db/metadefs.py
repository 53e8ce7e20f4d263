"""SQL of the metadata definitions catalog: the metadef data module.

Namespaces are seen by an admin, by their owner's project, and by
everyone when public; a namespace the caller cannot see does not exist
(NotFound). Objects, properties, tags and resource type associations
live inside one namespace; the functions that take a namespace row
expect it already looked up (and its visibility checked) by the caller.

Rows come back as plain dicts, with objects' and properties' JSON
columns decoded. Every write that touches several rows is one
transaction, so a failed call changes nothing. glance-manage's
load/unload/export of definition files has SQL of its own
(glance.db.metadef_admin): a whole load is one transaction with merge
semantics, which these per-namespace calls do not offer.
"""

import json

from oslo_db import exception as db_exc
import sqlalchemy as sa

from glance.common import exception
from glance.db import engine
from glance.db import metadef_models as models
from glance.domain import image as domain_image
from glance.domain import metadef as domain

namespaces = models.namespaces
resource_types = models.resource_types
associations = models.namespace_resource_types
objects = models.objects
properties = models.properties
tags = models.tags

# The namespace columns a list may be sorted by.
NAMESPACE_SORT_KEYS = ('namespace', 'display_name', 'description',
                       'visibility', 'protected', 'owner', 'created_at',
                       'updated_at', 'id')
TAG_SORT_KEYS = ('name', 'created_at', 'updated_at', 'id')
OBJECT_SORT_KEYS = TAG_SORT_KEYS

# Which child table a kind of definition lives in, and what the API
# calls one of them in its messages.
CHILDREN = {'objects': (objects, 'object'),
            'properties': (properties, 'property'),
            'tags': (tags, 'tag')}


class NamespaceNotFound(exception.NotFound):
    def __init__(self, name):
        super().__init__('Metadata definition namespace=%s was not found.'
                         % name)


class ChildNotFound(exception.NotFound):
    def __init__(self, kind, name, namespace):
        super().__init__('Metadata definition %s=%s was not found in '
                         'namespace=%s.' % (kind, name, namespace))


class DuplicateChild(exception.Conflict):
    def __init__(self, kind, name, namespace):
        super().__init__('A metadata definition %s with name=%s already '
                         'exists in namespace=%s.' % (kind, name, namespace))


def _now():
    return domain_image.utcnow()


def _namespace_row(row):
    return dict(row._mapping)


def _child_row(row):
    value = dict(row._mapping)
    for column in ('json_schema', 'required'):
        if value.get(column) is not None:
            value[column] = json.loads(value[column])
    return value


def _visible(context):
    """The namespaces the caller may see."""
    if context.is_admin:
        return sa.true()
    return sa.or_(namespaces.c.visibility == 'public',
                  namespaces.c.owner == context.project_id)


# --- namespaces ---------------------------------------------------------

def get_namespace(context, name, session=None):
    """The namespace row named name, if the caller may see it."""
    query = sa.select(namespaces).where(namespaces.c.namespace == name,
                                        _visible(context))
    if session is not None:
        row = session.execute(query).first()
    else:
        with engine.read_connection() as conn:
            row = conn.execute(query).first()
    if row is None:
        raise NamespaceNotFound(name)
    return _namespace_row(row)


def _sort_key(table, key):
    """A sort expression with no NULLs, so every backend orders alike."""
    column = table.c[key]
    if not column.nullable:
        return column
    if isinstance(column.type, sa.Boolean):
        # As 0/1: booleans take no < or > in SQLAlchemy.
        return sa.cast(sa.func.coalesce(column, sa.false()), sa.Integer)
    return sa.func.coalesce(column, '')


def _marker_value(table, key, row):
    value = row[key]
    if isinstance(table.c[key].type, sa.Boolean):
        return int(bool(value))
    if value is None and table.c[key].nullable:
        return ''
    return value


def _keyset_page(query, table, sort_key, sort_dir, marker_row, limit):
    """Order by (sort_key, created_at, id) and start after marker_row."""
    keys = [sort_key] + [k for k in ('created_at', 'id') if k != sort_key]
    exprs = [_sort_key(table, k) for k in keys]
    order = sa.desc if sort_dir == 'desc' else sa.asc
    if marker_row is not None:
        values = [_marker_value(table, k, marker_row) for k in keys]
        after = []
        for i, expr in enumerate(exprs):
            beyond = (expr > values[i] if sort_dir == 'asc'
                      else expr < values[i])
            after.append(sa.and_(*[e == v for e, v in
                                   zip(exprs[:i], values[:i])], beyond))
        query = query.where(sa.or_(*after))
    query = query.order_by(*[order(e) for e in exprs])
    if limit is not None:
        query = query.limit(limit)
    return query


def list_namespaces(context, visibility=None, resource_types_in=None,
                    marker=None, limit=None, sort_key='created_at',
                    sort_dir='desc'):
    """A page of the namespaces the caller sees, each with its
    resource_type_associations: three statements whatever the page."""
    query = sa.select(namespaces).where(_visible(context))
    if visibility is not None:
        query = query.where(namespaces.c.visibility == visibility)
    if resource_types_in:
        query = query.where(namespaces.c.id.in_(
            sa.select(associations.c.namespace_id).join(
                resource_types,
                resource_types.c.id == associations.c.resource_type_id)
            .where(resource_types.c.name.in_(resource_types_in))))
    with engine.read_connection() as conn:
        marker_row = None
        if marker is not None:
            marker_row = get_namespace(context, marker, session=conn)
        rows = [_namespace_row(r) for r in conn.execute(_keyset_page(
            query, namespaces, sort_key, sort_dir, marker_row, limit))]
        by_id = _associations_of(conn, [r['id'] for r in rows])
    for row in rows:
        row['resource_type_associations'] = by_id.get(row['id'], [])
    return rows


def _associations_of(conn, namespace_ids):
    """{namespace id: [association dicts]} in one statement."""
    if not namespace_ids:
        return {}
    result = {}
    query = (sa.select(associations, resource_types.c.name)
             .join(resource_types,
                   resource_types.c.id == associations.c.resource_type_id)
             .where(associations.c.namespace_id.in_(namespace_ids))
             .order_by(associations.c.created_at, resource_types.c.name))
    for row in conn.execute(query):
        result.setdefault(row.namespace_id, []).append({
            'name': row.name, 'prefix': row.prefix,
            'properties_target': row.properties_target,
            'created_at': row.created_at, 'updated_at': row.updated_at})
    return result


def namespace_contents(namespace):
    """The objects, properties, tags and resource type associations of
    a namespace row: four statements."""
    ns_id = namespace['id']
    with engine.read_connection() as conn:
        return {
            'objects': _children(conn, objects, ns_id),
            'properties': _children(conn, properties, ns_id),
            'tags': _children(conn, tags, ns_id),
            'resource_type_associations':
                _associations_of(conn, [ns_id]).get(ns_id, []),
        }


def _children(conn, table, ns_id, order=None):
    query = sa.select(table).where(table.c.namespace_id == ns_id)
    query = query.order_by(*(order or (table.c.created_at, table.c.id)))
    return [_child_row(row) for row in conn.execute(query)]


def _namespace_values(values, now):
    return {
        'namespace': values['namespace'],
        'display_name': values.get('display_name'),
        'description': values.get('description'),
        'visibility': values.get('visibility') or 'private',
        'protected': bool(values.get('protected', False)),
        'owner': values['owner'],
        'created_at': values.get('created_at') or now,
        'updated_at': values.get('updated_at') or now,
    }


def _object_values(ns_id, value, now):
    return {'namespace_id': ns_id, 'name': value['name'],
            'description': value.get('description'),
            'required': json.dumps(value.get('required') or []),
            'json_schema': json.dumps(value.get('properties') or {}),
            'created_at': value.get('created_at') or now,
            'updated_at': value.get('updated_at') or now}


def _property_values(ns_id, name, definition, now):
    return {'namespace_id': ns_id, 'name': name,
            'json_schema': json.dumps(definition),
            'created_at': now, 'updated_at': now}


def _tag_values(ns_id, name, now):
    return {'namespace_id': ns_id, 'name': name, 'created_at': now,
            'updated_at': now}


def _check_unique(kind, names, namespace):
    seen = set()
    for name in names:
        if name in seen:
            raise DuplicateChild(kind, name, namespace)
        seen.add(name)


@engine.retry_on_busy
def create_namespace(values, resource_type_associations=(), objects_=(),
                     properties_=None, tags_=(), protected_types=False):
    """Insert a namespace with all it contains, in one transaction.

    values: the namespace's columns (namespace and owner required).
    resource_type_associations: [{'name', 'prefix', 'properties_target'}]
    (a type not yet known is created, protected if protected_types);
    objects_: [{'name', 'description', 'required', 'properties'}];
    properties_: {name: definition}; tags_: [name, ...].
    Returns the namespace row.
    """
    name = values['namespace']
    properties_ = properties_ or {}
    _check_unique('object', [o['name'] for o in objects_], name)
    _check_unique('tag', tags_, name)
    _check_unique('resource type association',
                  [a['name'] for a in resource_type_associations], name)
    now = _now()
    row = _namespace_values(values, now)
    try:
        with engine.writer() as session:
            ns_id = session.execute(
                namespaces.insert().values(**row)).inserted_primary_key[0]
            for assoc in resource_type_associations:
                _insert_association(session, ns_id, assoc, now,
                                    protected_types)
            if objects_:
                session.execute(objects.insert(), [
                    _object_values(ns_id, o, now) for o in objects_])
            if properties_:
                session.execute(properties.insert(), [
                    _property_values(ns_id, n, d, now)
                    for n, d in properties_.items()])
            if tags_:
                session.execute(tags.insert(), [
                    _tag_values(ns_id, t, now) for t in tags_])
    except db_exc.DBDuplicateEntry:
        raise exception.Conflict('A metadata definition namespace with '
                                 'name=%s already exists.' % name)
    row['id'] = ns_id
    return row


@engine.retry_on_busy
def update_namespace(namespace, values):
    """Overwrite a namespace's columns; returns the updated row."""
    changes = {key: values.get(key) for key in
               ('namespace', 'display_name', 'description', 'visibility',
                'protected', 'owner')}
    changes['updated_at'] = _now()
    try:
        with engine.writer() as session:
            result = session.execute(namespaces.update().where(
                namespaces.c.id == namespace['id']).values(**changes))
    except db_exc.DBDuplicateEntry:
        raise exception.Conflict(
            'Invalid update. It would result in a duplicate metadata '
            'definition namespace with the same name of %s.'
            % changes['namespace'])
    if result.rowcount != 1:
        raise NamespaceNotFound(namespace['namespace'])
    return dict(namespace, **changes)


@engine.retry_on_busy
def delete_namespace(namespace):
    """Delete a namespace and everything in it, in one transaction."""
    ns_id = namespace['id']
    with engine.writer() as session:
        for table in (objects, properties, tags, associations):
            session.execute(table.delete().where(
                table.c.namespace_id == ns_id))
        result = session.execute(namespaces.delete().where(
            namespaces.c.id == ns_id))
    if result.rowcount != 1:
        raise NamespaceNotFound(namespace['namespace'])


@engine.retry_on_busy
def delete_children(namespace, kind):
    """Delete every object, property or tag (kind) of a namespace."""
    table = CHILDREN[kind][0]
    with engine.writer() as session:
        session.execute(table.delete().where(
            table.c.namespace_id == namespace['id']))


# --- objects, properties and tags ---------------------------------------

def list_children(namespace, kind, marker=None, limit=None,
                  sort_key='created_at', sort_dir='desc'):
    """The objects, properties or tags of a namespace, one page."""
    table, noun = CHILDREN[kind]
    with engine.read_connection() as conn:
        query = sa.select(table).where(
            table.c.namespace_id == namespace['id'])
        mark = None
        if marker is not None:
            mark = conn.execute(sa.select(table).where(
                table.c.namespace_id == namespace['id'],
                table.c.name == marker)).first()
            if mark is None:
                raise ChildNotFound(noun, marker, namespace['namespace'])
            mark = mark._mapping
        return [_child_row(row) for row in conn.execute(_keyset_page(
            query, table, sort_key, sort_dir, mark, limit))]


def get_child(namespace, kind, name):
    table, noun = CHILDREN[kind]
    with engine.read_connection() as conn:
        row = conn.execute(sa.select(table).where(
            table.c.namespace_id == namespace['id'],
            table.c.name == name)).first()
    if row is None:
        raise ChildNotFound(noun, name, namespace['namespace'])
    return _child_row(row)


def _child_values(namespace, kind, value, now):
    ns_id = namespace['id']
    if kind == 'objects':
        return _object_values(ns_id, value, now)
    if kind == 'properties':
        definition = dict(value)
        name = definition.pop('name')
        return _property_values(ns_id, name, definition, now)
    return _tag_values(ns_id, value['name'], now)


@engine.retry_on_busy
def add_child(namespace, kind, value):
    """Insert one object, property or tag (value as the API takes it)."""
    row = _child_values(namespace, kind, value, _now())
    table, noun = CHILDREN[kind]
    try:
        with engine.writer() as session:
            row['id'] = session.execute(
                table.insert().values(**row)).inserted_primary_key[0]
    except db_exc.DBDuplicateEntry:
        raise DuplicateChild(noun, row['name'], namespace['namespace'])
    return _decoded(row)


def _decoded(row):
    for column in ('json_schema', 'required'):
        if isinstance(row.get(column), str):
            row[column] = json.loads(row[column])
    return row


@engine.retry_on_busy
def update_child(namespace, kind, name, value):
    """Replace one object, property or tag (it may be renamed)."""
    table, noun = CHILDREN[kind]
    current = get_child(namespace, kind, name)
    row = _child_values(namespace, kind, value, _now())
    row.pop('created_at')
    try:
        with engine.writer() as session:
            result = session.execute(table.update().where(
                table.c.id == current['id']).values(**row))
    except db_exc.DBDuplicateEntry:
        raise DuplicateChild(noun, row['name'], namespace['namespace'])
    if result.rowcount != 1:
        raise ChildNotFound(noun, name, namespace['namespace'])
    return _decoded(dict(current, **row))


@engine.retry_on_busy
def delete_child(namespace, kind, name):
    table, noun = CHILDREN[kind]
    with engine.writer() as session:
        result = session.execute(table.delete().where(
            table.c.namespace_id == namespace['id'],
            table.c.name == name))
    if result.rowcount != 1:
        raise ChildNotFound(noun, name, namespace['namespace'])


@engine.retry_on_busy
def add_tags(namespace, names, append):
    """Create several tags at once; without append, they replace the
    namespace's tags. All or nothing."""
    _check_unique('tag', names, namespace['namespace'])
    now = _now()
    ns_id = namespace['id']
    try:
        with engine.writer() as session:
            if not append:
                session.execute(tags.delete().where(
                    tags.c.namespace_id == ns_id))
            if names:
                session.execute(tags.insert(), [
                    _tag_values(ns_id, n, now) for n in names])
    except db_exc.DBDuplicateEntry:
        raise exception.Conflict(
            'A metadata tag of the request already exists in '
            'namespace=%s.' % namespace['namespace'])
    return [{'name': n, 'created_at': now, 'updated_at': now}
            for n in names]


# --- resource types -----------------------------------------------------

def list_resource_types():
    with engine.read_connection() as conn:
        return [dict(row._mapping) for row in conn.execute(
            sa.select(resource_types).order_by(resource_types.c.name))]


def list_associations(namespace):
    with engine.read_connection() as conn:
        return _associations_of(conn, [namespace['id']]).get(
            namespace['id'], [])


def _insert_association(session, ns_id, assoc, now, protected_type=False):
    type_id = session.execute(sa.select(resource_types.c.id).where(
        resource_types.c.name == assoc['name'])).scalar()
    if type_id is None:
        type_id = session.execute(resource_types.insert().values(
            name=assoc['name'], protected=protected_type, created_at=now,
            updated_at=now)).inserted_primary_key[0]
    session.execute(associations.insert().values(
        namespace_id=ns_id, resource_type_id=type_id,
        prefix=assoc.get('prefix'),
        properties_target=assoc.get('properties_target'),
        created_at=now, updated_at=now))


@engine.retry_on_busy
def add_association(namespace, assoc):
    """Associate a resource type (created if unknown) with a namespace."""
    now = _now()
    try:
        with engine.writer() as session:
            _insert_association(session, namespace['id'], assoc, now)
    except db_exc.DBDuplicateEntry:
        raise exception.Conflict(
            'The metadata definition resource-type association of '
            'resource-type=%s to namespace=%s already exists.'
            % (assoc['name'], namespace['namespace']))
    return {'name': assoc['name'], 'prefix': assoc.get('prefix'),
            'properties_target': assoc.get('properties_target'),
            'created_at': now, 'updated_at': now}


@engine.retry_on_busy
def remove_association(namespace, type_name):
    with engine.writer() as session:
        type_id = session.execute(sa.select(resource_types.c.id).where(
            resource_types.c.name == type_name)).scalar()
        result = None
        if type_id is not None:
            result = session.execute(associations.delete().where(
                associations.c.namespace_id == namespace['id'],
                associations.c.resource_type_id == type_id))
    if result is None or result.rowcount != 1:
        raise exception.NotFound(
            'The metadata definition resource-type association of '
            'resource-type=%s to namespace=%s was not found.'
            % (type_name, namespace['namespace']))


class MetadefRepo:
    """The catalog as one caller sees it: namespaces by name, with the
    caller's visibility applied; everything else by namespace row."""

    def __init__(self, context):
        self.context = context

    def get_namespace(self, name):
        return get_namespace(self.context, name)

    def list_namespaces(self, **kwargs):
        return list_namespaces(self.context, **kwargs)

    def add_namespace(self, values, **contents):
        return create_namespace(values, **contents)

    def show_namespace(self, namespace):
        return dict(namespace, **namespace_contents(namespace))

    update_namespace = staticmethod(update_namespace)
    list_children = staticmethod(list_children)
    get_child = staticmethod(get_child)
    add_child = staticmethod(add_child)
    update_child = staticmethod(update_child)
    add_tags = staticmethod(add_tags)
    list_resource_types = staticmethod(list_resource_types)
    list_associations = staticmethod(list_associations)
    add_association = staticmethod(add_association)

    def get_prefixed_property(self, namespace, name, resource_type):
        """The property a resource of resource_type carries as name:
        name less the prefix of that type's association (404 if the
        type is not associated or the name lacks the prefix)."""
        association = next((a for a in list_associations(namespace)
                            if a['name'] == resource_type), None)
        if association is None:
            raise exception.NotFound(
                'Resource type %s is not associated with namespace %s.'
                % (resource_type, namespace['namespace']))
        prefix = association.get('prefix')
        if not (prefix and name.startswith(prefix)):
            raise exception.NotFound(
                "Property %s does not start with the expected resource "
                "type association prefix of '%s'." % (name, prefix))
        return get_child(namespace, 'properties', name[len(prefix):])

    # Deletes: nothing goes out of a protected namespace.

    def delete_namespace(self, namespace):
        domain.check_deletable(namespace)
        delete_namespace(namespace)

    def delete_children(self, namespace, kind):
        domain.check_deletable(namespace)
        delete_children(namespace, kind)

    def delete_child(self, namespace, kind, name):
        get_child(namespace, kind, name)
        domain.check_deletable(namespace, (CHILDREN[kind][1], name))
        delete_child(namespace, kind, name)

    def remove_association(self, namespace, type_name):
        if not any(a['name'] == type_name
                   for a in list_associations(namespace)):
            raise exception.NotFound(
                'Resource type %s is not associated with namespace %s.'
                % (type_name, namespace['namespace']))
        domain.check_deletable(
            namespace, ('resource-type-association', type_name))
        remove_association(namespace, type_name)
