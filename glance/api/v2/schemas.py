"""JSON-Schema documents of the API, and validation against them.

The image schema is "permissive": besides the base attributes and the
operator's schema-image.json properties, any string property is allowed.
"""

import copy
import functools
import json
import logging
import os

import jsonschema
from oslo_config import cfg

from glance.common import config
from glance.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

UUID_PATTERN = ('^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
                '-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$')
STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading',
            'importing', 'pending_delete', 'deactivated']


def _readonly(schema, description):
    schema = dict(schema)
    schema['readOnly'] = True
    schema['description'] = description
    return schema


def _image_properties():
    nullable_string = {'type': ['null', 'string']}
    return {
        'id': {'type': 'string', 'description': 'An identifier for the '
               'image', 'pattern': UUID_PATTERN},
        'name': {'type': ['null', 'string'], 'maxLength': 255,
                 'description': 'Descriptive name for the image'},
        'status': _readonly({'type': 'string', 'enum': STATUSES},
                            'Status of the image'),
        'visibility': {'type': 'string', 'description': 'Scope of image '
                       'accessibility',
                       'enum': ['community', 'public', 'private',
                                'shared']},
        'protected': {'type': 'boolean', 'description': 'If true, image '
                      'will not be deletable.'},
        'os_hidden': {'type': 'boolean', 'description': 'If true, image '
                      'will not appear in default image list response.'},
        'checksum': _readonly(dict(nullable_string, maxLength=32),
                              'md5 hash of image contents.'),
        'os_hash_algo': _readonly(dict(nullable_string, maxLength=64),
                                  'Algorithm to calculate the '
                                  'os_hash_value'),
        'os_hash_value': _readonly(dict(nullable_string, maxLength=128),
                                   'Hexdigest of the image contents '
                                   'using the algorithm specified by the '
                                   'os_hash_algo'),
        'owner': {'type': ['null', 'string'], 'maxLength': 255,
                  'description': 'Owner of the image'},
        'size': _readonly({'type': ['null', 'integer']},
                          'Size of image file in bytes'),
        'virtual_size': _readonly({'type': ['null', 'integer']},
                                  'Virtual size of image in bytes'),
        'container_format': {
            'type': ['null', 'string'],
            'enum': [None] + list(CONF.image_format.container_formats),
            'description': 'Format of the container'},
        'disk_format': {
            'type': ['null', 'string'],
            'enum': [None] + list(CONF.image_format.disk_formats),
            'description': 'Format of the disk'},
        'created_at': _readonly({'type': 'string'},
                                'Date and time of image registration'),
        'updated_at': _readonly({'type': 'string'},
                                'Date and time of the last image '
                                'modification'),
        'tags': {'type': 'array', 'description': 'List of strings related '
                 'to the image',
                 'items': {'type': 'string', 'maxLength': 255}},
        'direct_url': _readonly({'type': 'string'},
                                'URL to access the image file kept in '
                                'external store'),
        'min_ram': {'type': 'integer', 'minimum': 0,
                    'description': 'Amount of ram (in MB) required to boot '
                    'image.'},
        'min_disk': {'type': 'integer', 'minimum': 0,
                     'description': 'Amount of disk space (in GB) required '
                     'to boot image.'},
        'self': _readonly({'type': 'string'}, 'An image self url'),
        'file': _readonly({'type': 'string'}, 'An image file url'),
        'stores': _readonly({'type': 'string'}, 'Store in which image '
                            'data resides.  Only present when the '
                            'operator has enabled multiple stores.'),
        'schema': _readonly({'type': 'string'}, 'An image schema url'),
        'locations': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {
                    'url': {'type': 'string', 'maxLength': 255},
                    'metadata': {'type': 'object'},
                    'validation_data': {
                        'type': 'object',
                        'properties': {
                            'checksum': {'type': 'string', 'minLength': 32,
                                         'maxLength': 32},
                            'os_hash_algo': {'type': 'string',
                                             'maxLength': 64},
                            'os_hash_value': {'type': 'string',
                                              'maxLength': 128},
                        },
                        'required': ['os_hash_algo', 'os_hash_value'],
                        'additionalProperties': False,
                    },
                },
                'required': ['url', 'metadata'],
            },
            'description': 'A set of URLs to access the image file kept '
                           'in external store'},
    }


def _operator_file():
    path = CONF.schema_image_file
    if not path:
        directory = config.config_dir()
        if directory is None:
            return None
        path = os.path.join(directory, 'schema-image.json')
        if not os.path.exists(path):
            return None
    return path


def _operator_properties():
    """Properties from schema-image.json, and its 'required' list."""
    path = _operator_file()
    if path is None:
        return {}, []
    try:
        with open(path) as f:
            extra = json.load(f)
    except (OSError, ValueError) as e:
        raise RuntimeError('Cannot read image schema file %s: %s'
                           % (path, e))
    if not isinstance(extra, dict):
        raise RuntimeError('Image schema file %s must hold a JSON object.'
                           % path)
    required = extra.pop('required', [])
    properties = extra.get('properties', extra)
    for value in properties.values():
        if isinstance(value, dict):
            value.setdefault('is_base', False)
    return properties, required


@functools.lru_cache(maxsize=1)
def image_schema():
    properties = _image_properties()
    extra, required = _operator_properties()
    for name, value in extra.items():
        properties.setdefault(name, value)
    schema = {
        'name': 'image',
        'properties': properties,
        'additionalProperties': {'type': 'string'},
        'links': [
            {'rel': 'self', 'href': '{self}'},
            {'rel': 'enclosure', 'href': '{file}'},
            {'rel': 'describedby', 'href': '{schema}'},
        ],
    }
    if required:
        schema['required'] = required
    return schema


def _collection(name, item_schema):
    return {
        'name': name,
        'properties': {
            name: {'type': 'array', 'items': item_schema},
            'first': {'type': 'string'},
            'next': {'type': 'string'},
            'schema': {'type': 'string'},
        },
        'links': [
            {'rel': 'first', 'href': '{first}'},
            {'rel': 'next', 'href': '{next}'},
            {'rel': 'describedby', 'href': '{schema}'},
        ],
    }


@functools.lru_cache(maxsize=1)
def images_schema():
    return _collection('images', image_schema())


def member_schema():
    return {
        'name': 'member',
        'properties': {
            'created_at': {'type': 'string', 'description': 'Date and time '
                           'of image member creation'},
            'image_id': {'type': 'string', 'pattern': UUID_PATTERN,
                         'description': 'An identifier for the image'},
            'member_id': {'type': 'string', 'description': 'An identifier '
                          'for the image member (tenantId)'},
            'status': {'type': 'string', 'enum': ['pending', 'accepted',
                                                  'rejected'],
                       'description': 'The status of this image member'},
            'updated_at': {'type': 'string', 'description': 'Date and time '
                           'of last modification of image member'},
            'schema': {'readOnly': True, 'type': 'string'},
        },
    }


def members_schema():
    schema = _collection('members', member_schema())
    del schema['properties']['first'], schema['properties']['next']
    schema['links'] = [{'rel': 'describedby', 'href': '{schema}'}]
    return schema


def task_schema():
    return {
        'name': 'task',
        'properties': {
            'id': {'type': 'string', 'pattern': UUID_PATTERN,
                   'description': 'An identifier for the task'},
            'type': {'type': 'string', 'enum': ['import', 'api_image_import',
                                                'location_import'],
                     'description': 'The type of task represented by this '
                     'content'},
            'status': {'type': 'string', 'enum': ['pending', 'processing',
                                                  'success', 'failure'],
                       'description': 'The current status of this task'},
            'input': {'type': ['null', 'object'], 'description': 'The '
                      'parameters required by task, JSON blob'},
            'result': {'type': ['null', 'object'], 'description': 'The '
                       'result of current task, JSON blob'},
            'owner': {'type': 'string', 'description': 'An identifier for '
                      'the owner of this task'},
            'message': {'type': 'string', 'description': 'Human-readable '
                        'informative message only included when '
                        'appropriate (usually on failure)'},
            'image_id': {'type': 'string', 'description': 'Image associated '
                         'with the task'},
            'request_id': {'type': 'string', 'description': 'Human-readable '
                           'informative request-id'},
            'user_id': {'type': 'string', 'description': 'User associated '
                        'with the task'},
            'expires_at': {'type': ['null', 'string'],
                           'description': 'Datetime when this resource '
                           'would be subject to removal'},
            'created_at': {'type': 'string', 'description': 'Datetime when '
                           'this resource was created'},
            'updated_at': {'type': 'string', 'description': 'Datetime when '
                           'this resource was updated'},
            'self': {'type': 'string'},
            'schema': {'type': 'string'},
        },
    }


def tasks_schema():
    return _collection('tasks', task_schema())


SCHEMAS = {
    'image': image_schema,
    'images': images_schema,
    'member': member_schema,
    'members': members_schema,
    'task': task_schema,
    'tasks': tasks_schema,
}


@functools.lru_cache(maxsize=1)
def _image_validator():
    schema = copy.deepcopy(image_schema())
    schema['type'] = 'object'
    # Required properties are checked on create only (check_required).
    schema.pop('required', None)
    return jsonschema.Draft4Validator(schema)


def _message(error):
    where = '/'.join(str(p) for p in error.absolute_path)
    if where:
        return "Invalid value for '%s': %s" % (where, error.message)
    return error.message


def check_required(values):
    missing = [name for name in image_schema().get('required', ())
               if name not in values]
    if missing:
        raise exception.BadRequest('Missing required properties: %s'
                                   % ', '.join(missing))


# Columns stored as 32-bit signed integers. The served schema does not
# say so (the reference's does not either), but a larger value is 400.
INT32_ATTRIBUTES = ('min_disk', 'min_ram')
MAX_INT32 = 2 ** 31 - 1


def _check_int32(values):
    for name in INT32_ATTRIBUTES:
        value = values.get(name)
        if isinstance(value, int) and value > MAX_INT32:
            raise exception.BadRequest("'%s' value out of range, must not "
                                       "exceed %d." % (name, MAX_INT32))


def validate_image(values):
    """BadRequest if values (an image as the API shows it) are invalid."""
    error = jsonschema.exceptions.best_match(
        _image_validator().iter_errors(values))
    if error is not None:
        raise exception.BadRequest(_message(error))
    _check_int32(values)


def validate_image_property(name, value):
    validate_image({name: value})
