"""How the metadefs API shows its definitions, and what its handlers
share (the caller's repository, names taken from the URL).

As in the reference, an attribute without a value is left out of a
view rather than shown as null.
"""

from glance.api.v2 import images
from glance.api.v2 import metadef_schemas
from glance.common import exception
from glance import gateway

NAMESPACES = '/v2/metadefs/namespaces'
SCHEMAS = '/v2/schemas/metadefs/'


def repo(request):
    return gateway.get().get_metadef_repo(images.context_of(request))


def url_name(value):
    """A name from the URL: servers hand paths over as latin-1."""
    try:
        return value.encode('latin-1').decode('utf-8')
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise exception.BadRequest('Names must be UTF-8.')


def _compact(view):
    return {key: value for key, value in view.items() if value is not None}


def _times(row):
    return {'created_at': images.isotime(row.get('created_at')),
            'updated_at': images.isotime(row.get('updated_at'))}


def namespace_url(name):
    return '%s/%s' % (NAMESPACES, name)


def namespace_view(namespace, contents=None):
    view = {
        'namespace': namespace['namespace'],
        'display_name': namespace.get('display_name'),
        'description': namespace.get('description'),
        'visibility': namespace.get('visibility'),
        'protected': bool(namespace.get('protected')),
        'owner': namespace.get('owner'),
        'self': namespace_url(namespace['namespace']),
        'schema': SCHEMAS + 'namespace',
    }
    view.update(_times(namespace))
    contents = contents or {}
    associations = contents.get('resource_type_associations')
    if associations:
        view['resource_type_associations'] = [
            association_view(a) for a in associations]
    if contents.get('properties'):
        view['properties'] = contents['properties']
    if contents.get('objects'):
        view['objects'] = contents['objects']
    if contents.get('tags'):
        view['tags'] = [{'name': t['name']} for t in contents['tags']]
    return _compact(view)


def definition(stored):
    """A stored property definition as the API shows it."""
    return {key: value for key, value in stored.items()
            if key in metadef_schemas.PROPERTY_KEYS and key != 'name'}


def properties_view(rows):
    return {row['name']: definition(row['json_schema']) for row in rows}


def property_view(row):
    return dict(definition(row['json_schema']), name=row['name'])


def object_view(namespace_name, row):
    view = {
        'name': row['name'],
        'description': row.get('description'),
        'required': row.get('required') or None,
        'properties': {name: definition(value) for name, value in
                       (row.get('json_schema') or {}).items()} or None,
        'self': '%s/objects/%s' % (namespace_url(namespace_name),
                                   row['name']),
        'schema': SCHEMAS + 'object',
    }
    view.update(_times(row))
    return _compact(view)


def tag_view(row):
    return _compact(dict(_times(row), name=row['name']))


def association_view(row):
    return _compact(dict(_times(row), name=row['name'],
                         prefix=row.get('prefix'),
                         properties_target=row.get('properties_target')))


def with_prefix(view, resource_type):
    """A namespace view with its property names prefixed as the given
    resource type's association says (unchanged if it has no prefix)."""
    prefix = next((a.get('prefix') for a in
                   view.get('resource_type_associations', ())
                   if a['name'] == resource_type), None)
    if not prefix:
        return view
    if 'properties' in view:
        view['properties'] = {prefix + name: value for name, value in
                              view['properties'].items()}
    for obj in view.get('objects', ()):
        if 'properties' in obj:
            obj['properties'] = {prefix + name: value for name, value in
                                 obj['properties'].items()}
        if obj.get('required'):
            obj['required'] = [prefix + name for name in obj['required']]
    return view
