"""JSON-Schema documents of /v2/metadefs, and request validation.

Served under /v2/schemas/metadefs/{name}, in the shape of the image
schemas (a named object schema with additionalProperties false, or a
collection of one). Request bodies are validated against the same
documents, so what a client reads is what the server enforces.
"""

import copy
import functools

import jsonschema

from glance.common import exception
from glance.common import wsgi

NAME_MAX = 80
_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string', None]
# What the API adds to a definition; a client may not send it.
READ_ONLY = ('self', 'schema', 'created_at', 'updated_at')


def _string(max_length=None, description=None):
    schema = {'type': 'string'}
    if max_length:
        schema['maxLength'] = max_length
    if description:
        schema['description'] = description
    return schema


def _time(what):
    return {'type': 'string', 'readOnly': True, 'format': 'date-time',
            'description': 'When the %s was %s.' % what}


def _times(noun):
    return {'created_at': _time((noun, 'created')),
            'updated_at': _time((noun, 'last changed'))}


def _property_fields():
    """What one property definition may say (JSON-Schema of a value)."""
    return {
        'name': _string(NAME_MAX),
        'title': _string(),
        'description': _string(),
        'operators': {'type': 'array', 'items': {'type': 'string'}},
        'type': {'type': 'string', 'enum': _TYPES},
        'required': {'$ref': '#/definitions/stringArray'},
        'minimum': {'type': 'number'},
        'maximum': {'type': 'number'},
        'maxLength': {'$ref': '#/definitions/positiveInteger'},
        'minLength': {'$ref': '#/definitions/positiveIntegerDefault0'},
        'pattern': {'type': 'string', 'format': 'regex'},
        'enum': {'type': 'array'},
        'readonly': {'type': 'boolean'},
        'default': {},
        'items': {'type': 'object', 'properties': {
            'type': {'type': 'string', 'enum': _TYPES},
            'enum': {'type': 'array'}}},
        'maxItems': {'$ref': '#/definitions/positiveInteger'},
        'minItems': {'$ref': '#/definitions/positiveIntegerDefault0'},
        'uniqueItems': {'type': 'boolean', 'default': False},
        'additionalItems': {'type': 'boolean'},
    }


# The keys a stored property definition keeps (others are dropped, as
# the reference's typed model drops them).
PROPERTY_KEYS = frozenset(_property_fields()) | {'confidential'}


def _definitions(string_array_min=None):
    string_array = {'type': 'array', 'items': {'type': 'string'},
                    'uniqueItems': True}
    if string_array_min:
        string_array['minItems'] = string_array_min
    return {
        'positiveInteger': {'type': 'integer', 'minimum': 0},
        'positiveIntegerDefault0': {'allOf': [
            {'$ref': '#/definitions/positiveInteger'}, {'default': 0}]},
        'stringArray': string_array,
    }


def _namespace_definitions():
    definitions = _definitions()
    definitions['property'] = {
        'type': 'object',
        'additionalProperties': {
            'type': 'object', 'required': ['title', 'type'],
            'properties': _property_fields()}}
    return definitions


def _object_schema(name, properties, required, definitions=None):
    schema = {'name': name, 'properties': properties,
              'additionalProperties': False}
    if definitions:
        schema['definitions'] = definitions
    if required:
        schema['required'] = required
    return schema


def _links():
    return [{'rel': 'first', 'href': '{first}'},
            {'rel': 'next', 'href': '{next}'},
            {'rel': 'describedby', 'href': '{schema}'}]


def _collection(name, item, as_dict=False):
    """A list (or, as_dict, a name -> item map) of item schemas; the
    item's definitions move up to the collection."""
    item = copy.deepcopy(item)
    definitions = item.pop('definitions', None)
    container = ({'type': 'object', 'additionalProperties': item}
                 if as_dict else {'type': 'array', 'items': item})
    schema = {'name': name,
              'properties': {name: container, 'first': {'type': 'string'},
                             'next': {'type': 'string'},
                             'schema': {'type': 'string'}},
              'links': _links()}
    if definitions:
        schema['definitions'] = definitions
    return schema


def _read_only():
    return {'schema': {'readOnly': True, 'type': 'string'},
            'self': {'readOnly': True, 'type': 'string'}}


def namespace_schema():
    item = {'type': 'object', 'properties': {
        'name': _string(), 'prefix': _string(),
        'properties_target': _string()}}
    properties = {
        'namespace': _string(NAME_MAX, 'The namespace\'s unique name.'),
        'display_name': _string(NAME_MAX, 'A name for people to read.'),
        'description': _string(500, 'What the namespace is for.'),
        'visibility': {'type': 'string', 'enum': ['public', 'private'],
                       'description': 'Who may see the namespace.'},
        'protected': {'type': 'boolean',
                      'description': 'A protected namespace cannot be '
                                     'deleted.'},
        'owner': _string(255, 'The project owning the namespace.'),
        'resource_type_associations': {'type': 'array', 'items': item},
        'properties': {'$ref': '#/definitions/property'},
        'objects': {'type': 'array', 'items': {
            'type': 'object', 'properties': {
                'name': _string(), 'description': _string(),
                'required': {'$ref': '#/definitions/stringArray'},
                'properties': {'$ref': '#/definitions/property'}}}},
        'tags': {'type': 'array', 'items': {
            'type': 'object', 'properties': {'name': _string()}}},
    }
    properties.update(_times('namespace'))
    properties.update(_read_only())
    return _object_schema('namespace', properties, ['namespace'],
                          _namespace_definitions())


def object_schema():
    properties = {
        'name': _string(NAME_MAX),
        'description': _string(),
        'required': {'$ref': '#/definitions/stringArray'},
        'properties': {'$ref': '#/definitions/property'},
    }
    properties.update(_read_only())
    properties.update(_times('object'))
    return _object_schema('object', properties, ['name'],
                          _namespace_definitions())


def property_schema(require_name=True):
    required = ['title', 'type'] + (['name'] if require_name else [])
    return _object_schema('property', _property_fields(), required,
                          _definitions(string_array_min=1))


def tag_schema():
    properties = {'name': _string(NAME_MAX)}
    properties.update(_times('tag'))
    return _object_schema('tag', properties, ['name'])


def tags_request_schema():
    """The body of a bulk tag create: {"tags": [{"name": ...}, ...]}."""
    return _object_schema('tags', {'tags': {'type': 'array', 'items': {
        'type': 'object', 'properties': {'name': _string(NAME_MAX)},
        'required': ['name'], 'additionalProperties': False}}},
        # Without "tags", a replacing call would empty the namespace.
        ['tags'])


def resource_type_schema():
    properties = {
        'name': _string(NAME_MAX, 'The resource type, named as in Heat '
                        '(for example OS::Glance::Image).'),
        'prefix': _string(NAME_MAX, 'Put before each property name of the '
                          'namespace when applied to this resource type '
                          '(separator included, e.g. "hw:").'),
        'properties_target': _string(NAME_MAX, 'Which of the resource\'s '
                                     'key/value sets the properties go '
                                     'to (e.g. "image" for a volume).'),
    }
    properties.update(_times('association'))
    return _object_schema('resource_type_association', properties, ['name'])


SCHEMAS = {
    'namespace': namespace_schema,
    'namespaces': lambda: _collection('namespaces', namespace_schema()),
    'object': object_schema,
    'objects': lambda: _collection('objects', object_schema()),
    'property': property_schema,
    'properties': lambda: _collection(
        'properties', property_schema(require_name=False), as_dict=True),
    'tag': tag_schema,
    'tags': lambda: _collection('tags', tag_schema()),
    'resource_type': resource_type_schema,
    'resource_types': lambda: _collection('resource_type_associations',
                                          resource_type_schema()),
}


@functools.lru_cache(maxsize=None)
def _validator(name, require_name=True):
    if name == 'tags-request':
        schema = tags_request_schema()
    elif name == 'property':
        schema = property_schema(require_name)
    else:
        schema = SCHEMAS[name]()
    schema = dict(schema, type='object')
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _message(error):
    where = '/'.join(str(p) for p in error.absolute_path)
    if where:
        return "Invalid value for '%s': %s" % (where, error.message)
    return error.message


def validate(name, body, read_only=READ_ONLY, require_name=True):
    """The body, if it is a valid <name> document; 403 for a read-only
    attribute (as the reference), 400 for anything else wrong."""
    if not isinstance(body, dict):
        raise exception.BadRequest('The request body must be a JSON '
                                   'object.')
    for key in read_only:
        if key in body:
            raise exception.Forbidden("Attribute '%s' is read-only." % key)
    error = jsonschema.exceptions.best_match(
        _validator(name, require_name).iter_errors(body))
    if error is not None:
        raise exception.BadRequest(_message(error))
    return body


def show(request, name):
    """GET /v2/schemas/metadefs/{name}."""
    wsgi.refuse_body(request)
    build = SCHEMAS.get(name)
    if build is None:
        raise exception.NotFound('No schema named metadefs/%s.' % name)
    return wsgi.json_response(build())


ROUTES = [('/v2/schemas/metadefs/{name}', 'GET', show)]
