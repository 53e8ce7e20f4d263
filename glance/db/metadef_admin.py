"""SQL of glance-manage's load, unload and export of metadata definitions.

The namespaces come in and go out in the form glance.common.metadef_files
reads and writes; the rows are those of glance.db.metadef_models, encoded
the way glance.db.metadefs (the API's data module) encodes them, so that
what is loaded here is served by the API as if it had been created there.

A load is one write transaction: either every namespace of the files is
loaded (or skipped) or, on any error, none is.
"""

import json

import sqlalchemy as sa

from glance.db import engine
from glance.db import metadef_models as models
from glance.domain import image as domain_image

namespaces = models.namespaces
resource_types = models.resource_types
associations = models.namespace_resource_types
objects = models.objects
properties = models.properties
tags = models.tags

# What load() did with each namespace.
CREATED, REPLACED, MERGED, SKIPPED = 'created', 'replaced', 'merged', 'skipped'

# Child tables before the namespace table they point to.
_CHILD_TABLES = (objects, properties, tags, associations)


def _namespace_columns(namespace):
    return {key: namespace[key] for key in
            ('namespace', 'display_name', 'description', 'visibility',
             'protected', 'owner')}


def _object_columns(item):
    return {'description': item.get('description'),
            'required': json.dumps(item.get('required') or []),
            'json_schema': json.dumps(item.get('properties') or {})}


class _Loader:
    """One load, inside one write session."""

    def __init__(self, session, merge, prefer_new, overwrite):
        self.session = session
        self.merge = merge
        self.prefer_new = prefer_new
        self.overwrite = overwrite
        self.now = domain_image.utcnow()
        self.type_ids = {row.name: row.id for row in session.execute(
            sa.select(resource_types.c.name, resource_types.c.id))}

    def _execute(self, statement, rows=None):
        if rows is None:
            return self.session.execute(statement)
        if rows:
            return self.session.execute(statement, rows)

    def load(self, namespace):
        row = self._execute(sa.select(namespaces.c.id).where(
            namespaces.c.namespace == namespace['namespace'])).first()
        outcome = CREATED
        if row is not None and self.overwrite:
            self._delete(row.id)
            row, outcome = None, REPLACED
        if row is None:
            ns_id = self._execute(namespaces.insert().values(
                created_at=self.now, updated_at=self.now,
                **_namespace_columns(namespace))).inserted_primary_key[0]
            self._add_contents(ns_id, namespace, existing=None)
            return outcome
        if not self.merge:
            return SKIPPED
        if self.prefer_new:
            self._execute(namespaces.update().where(
                namespaces.c.id == row.id).values(
                    updated_at=self.now, **_namespace_columns(namespace)))
        self._add_contents(row.id, namespace, self._existing(row.id))
        return MERGED

    def _delete(self, ns_id):
        for table in _CHILD_TABLES:
            self._execute(table.delete().where(
                table.c.namespace_id == ns_id))
        self._execute(namespaces.delete().where(namespaces.c.id == ns_id))

    def _existing(self, ns_id):
        """{table: {name: id}} of what the namespace already holds; for
        the associations, the set of their resource type ids."""
        existing = {}
        for table in (objects, properties, tags):
            existing[table] = {r.name: r.id for r in self._execute(
                sa.select(table.c.name, table.c.id).where(
                    table.c.namespace_id == ns_id))}
        existing[associations] = set(self._execute(
            sa.select(associations.c.resource_type_id).where(
                associations.c.namespace_id == ns_id)).scalars())
        return existing

    def _type_id(self, name):
        """The id of a resource type, created (protected, as the
        reference's loader does) when unknown."""
        if name not in self.type_ids:
            self.type_ids[name] = self._execute(
                resource_types.insert().values(
                    name=name, protected=True, created_at=self.now,
                    updated_at=self.now)).inserted_primary_key[0]
        return self.type_ids[name]

    def _add_contents(self, ns_id, namespace, existing):
        """Insert what the namespace lacks; with prefer_new, also
        overwrite what it has. existing=None: a new, empty namespace."""
        existing = existing or {table: {} for table in _CHILD_TABLES}
        times = {'created_at': self.now, 'updated_at': self.now}

        new_rows = []
        for item in namespace['resource_type_associations']:
            type_id = self._type_id(item['name'])
            columns = {'prefix': item['prefix'],
                       'properties_target': item['properties_target']}
            if type_id not in existing[associations]:
                new_rows.append(dict(columns, namespace_id=ns_id,
                                     resource_type_id=type_id, **times))
            elif self.prefer_new:
                self._execute(associations.update().where(
                    associations.c.namespace_id == ns_id,
                    associations.c.resource_type_id == type_id).values(
                        updated_at=self.now, **columns))
        self._execute(associations.insert(), new_rows)

        self._merge_children(
            ns_id, properties, existing[properties],
            [(name, {'json_schema': json.dumps(definition)})
             for name, definition in namespace['properties'].items()])
        self._merge_children(
            ns_id, objects, existing[objects],
            [(item['name'], _object_columns(item))
             for item in namespace['objects']])
        self._merge_children(
            ns_id, tags, existing[tags],
            [(item['name'], {}) for item in namespace['tags']])

    def _merge_children(self, ns_id, table, existing, items):
        new_rows = []
        for name, columns in items:
            if name not in existing:
                new_rows.append(dict(columns, namespace_id=ns_id, name=name,
                                     created_at=self.now,
                                     updated_at=self.now))
            elif self.prefer_new:
                self._execute(table.update().where(
                    table.c.id == existing[name]).values(
                        updated_at=self.now, **columns))
        # One INSERT per table, rows in file order: ids (and so the
        # order the API and export list them in) follow the file.
        self._execute(table.insert(), new_rows)


@engine.retry_on_busy
def load(namespace_list, merge=False, prefer_new=False, overwrite=False):
    """Load namespaces (as glance.common.metadef_files reads them).

    A namespace not in the database is created with all it holds. One
    that is: skipped; with merge, what it lacks is added (existing
    definitions win); with merge and prefer_new, the file's definitions
    also replace those of the same name; with merge and overwrite, it is
    deleted and created again from the file. Returns [(namespace name,
    CREATED | REPLACED | MERGED | SKIPPED)].
    """
    with engine.writer() as session:
        loader = _Loader(session, merge, prefer_new, overwrite)
        return [(namespace['namespace'], loader.load(namespace))
                for namespace in namespace_list]


@engine.retry_on_busy
def unload():
    """Delete every namespace with all it holds, and every resource type
    but those a new database starts with. Returns the number of
    namespaces deleted."""
    with engine.writer() as session:
        for table in _CHILD_TABLES:
            session.execute(table.delete())
        count = session.execute(namespaces.delete()).rowcount
        session.execute(resource_types.delete().where(
            resource_types.c.name.not_in(models.DEFAULT_RESOURCE_TYPES)))
    return count


def _by_namespace(conn, table, order):
    result = {}
    for row in conn.execute(sa.select(table).order_by(
            table.c.namespace_id, *order)):
        result.setdefault(row.namespace_id, []).append(row)
    return result


def read_all():
    """Every namespace with all it holds, by namespace name, in the form
    glance.common.metadef_files writes: five statements in all.

    Objects, properties and tags come in the order they were created,
    which for loaded files is the order of the file; resource type
    associations by resource type name.
    """
    with engine.read_connection() as conn:
        rows = conn.execute(sa.select(namespaces).order_by(
            namespaces.c.namespace)).all()
        by_ns = {
            table: _by_namespace(conn, table,
                                 (table.c.created_at, table.c.id))
            for table in (objects, properties, tags)}
        assoc_rows = {}
        for row in conn.execute(
                sa.select(associations, resource_types.c.name)
                .join(resource_types,
                      resource_types.c.id == associations.c.resource_type_id)
                .order_by(associations.c.namespace_id,
                          resource_types.c.name)):
            assoc_rows.setdefault(row.namespace_id, []).append(row)
    result = []
    for row in rows:
        namespace = _namespace_columns(row._mapping)
        namespace['resource_type_associations'] = [
            {'name': a.name, 'prefix': a.prefix,
             'properties_target': a.properties_target}
            for a in assoc_rows.get(row.id, [])]
        namespace['properties'] = {
            p.name: json.loads(p.json_schema)
            for p in by_ns[properties].get(row.id, [])}
        namespace['objects'] = [
            {'name': o.name, 'description': o.description,
             'properties': json.loads(o.json_schema) if o.json_schema
             else {},
             'required': json.loads(o.required) if o.required else []}
            for o in by_ns[objects].get(row.id, [])]
        namespace['tags'] = [{'name': t.name}
                             for t in by_ns[tags].get(row.id, [])]
        result.append(namespace)
    return result
