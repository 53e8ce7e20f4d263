"""Metadata definition files: the JSON format operators keep namespaces in.

One file holds one namespace, in the layout the reference service's
``glance-manage db load_metadefs`` reads and ``export_metadefs`` writes::

    {"namespace": "OS::Compute::Watchdog",
     "display_name": "...", "description": "...",
     "visibility": "public", "protected": true, "owner": "admin",
     "resource_type_associations": [
         {"name": "OS::Glance::Image", "prefix": "hw_",
          "properties_target": "image"}],
     "properties": {"watchdog_action": {"title": "...", "type": "..."}},
     "objects": [{"name": "...", "description": "...",
                  "properties": {...}, "required": [...]}],
     "tags": [{"name": "..."}]}

Only ``namespace`` is required. This module reads, checks and writes such
files; it knows nothing of the database (glance.db.metadef_files does the
SQL). Every file of a load is read and checked before anything is written,
so that a bad file stops the whole load instead of half of it.
"""

import json
import os
import re
import sys

import jsonschema

_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 80}
_OPTIONAL_NAME = {'type': ['string', 'null'], 'maxLength': 80}

# The shape the loader relies on. Property definitions themselves are
# checked against the API's property schema by the caller that has it
# (glance.db.metadef_files), so that a file cannot hold what the API would
# refuse.
FILE_SCHEMA = {
    'type': 'object',
    'required': ['namespace'],
    'properties': {
        'namespace': _NAME,
        'display_name': _OPTIONAL_NAME,
        'description': {'type': ['string', 'null'], 'maxLength': 500},
        'visibility': {'enum': ['public', 'private', None]},
        'protected': {'type': ['boolean', 'null']},
        'owner': {'type': ['string', 'null'], 'maxLength': 255},
        'resource_type_associations': {
            'type': 'array',
            'items': {
                'type': 'object',
                'required': ['name'],
                'properties': {
                    'name': _NAME,
                    'prefix': _OPTIONAL_NAME,
                    'properties_target': _OPTIONAL_NAME,
                },
            },
        },
        'properties': {
            'type': 'object',
            'propertyNames': {'minLength': 1, 'maxLength': 80},
            'additionalProperties': {'type': 'object'},
        },
        'objects': {
            'type': 'array',
            'items': {
                'type': 'object',
                'required': ['name'],
                'properties': {
                    'name': _NAME,
                    'description': {'type': ['string', 'null']},
                    'properties': {
                        'type': ['object', 'null'],
                        'propertyNames': {'minLength': 1, 'maxLength': 80},
                        'additionalProperties': {'type': 'object'},
                    },
                    'required': {
                        'type': ['array', 'null'],
                        'items': {'type': 'string'},
                    },
                },
            },
        },
        'tags': {
            'type': 'array',
            'items': {
                'type': 'object',
                'required': ['name'],
                'properties': {'name': {'type': 'string', 'minLength': 1,
                                        'maxLength': 255}},
            },
        },
    },
}

# Built once: jsonschema.validate() would check the schema itself again
# for every file.
_FILE_VALIDATOR = jsonschema.Draft7Validator(FILE_SCHEMA)

# A namespace loaded from a file without an owner belongs to "admin", as
# in the reference service.
DEFAULT_OWNER = 'admin'


class DefinitionFileError(Exception):
    """A definition file (or the path given) cannot be loaded."""


def _duplicates(names):
    seen, twice = set(), []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return twice


def _check_unique(path, what, names):
    twice = _duplicates(names)
    if twice:
        raise DefinitionFileError('%s: %s %s appear more than once'
                                  % (path, what, ', '.join(twice)))


def _where(error):
    """'objects/0/name' for a jsonschema error, or 'the top level'."""
    if not error.absolute_path:
        return 'the top level'
    return '/'.join(str(part) for part in error.absolute_path)


def normalise(data):
    """The namespace of a checked file with every optional key filled in.

    Missing and null mean the same to the reference loader; here they
    become the API's defaults, so that the database never holds a null
    the API would not.
    """
    objects = []
    for item in data.get('objects') or []:
        objects.append({
            'name': item['name'],
            'description': item.get('description'),
            'properties': item.get('properties') or {},
            'required': item.get('required') or [],
        })
    return {
        'namespace': data['namespace'],
        'display_name': data.get('display_name'),
        'description': data.get('description'),
        'visibility': data.get('visibility') or 'private',
        'protected': bool(data.get('protected')),
        'owner': data.get('owner') or DEFAULT_OWNER,
        'resource_type_associations': [
            {'name': item['name'], 'prefix': item.get('prefix'),
             'properties_target': item.get('properties_target')}
            for item in data.get('resource_type_associations') or []],
        'properties': dict(data.get('properties') or {}),
        'objects': objects,
        'tags': [{'name': item['name']} for item in data.get('tags') or []],
    }


def check(path, data, property_check=None):
    """Raise DefinitionFileError unless ``data`` is a loadable namespace.

    ``property_check(definition)`` may add a check of each property
    definition (of the namespace and of its objects); it raises
    ValueError with a message.
    """
    error = jsonschema.exceptions.best_match(
        _FILE_VALIDATOR.iter_errors(data))
    if error is not None:
        raise DefinitionFileError('%s: at %s: %s'
                                  % (path, _where(error), error.message))
    _check_unique(path, 'resource types',
                  [a['name'] for a in
                   data.get('resource_type_associations') or []])
    _check_unique(path, 'objects',
                  [o['name'] for o in data.get('objects') or []])
    _check_unique(path, 'tags', [t['name'] for t in data.get('tags') or []])
    if property_check is None:
        return
    definitions = [('properties/%s' % name, value) for name, value in
                   (data.get('properties') or {}).items()]
    for index, item in enumerate(data.get('objects') or []):
        definitions.extend(
            ('objects/%d/properties/%s' % (index, name), value)
            for name, value in (item.get('properties') or {}).items())
    for where, definition in definitions:
        try:
            property_check(definition)
        except ValueError as e:
            raise DefinitionFileError('%s: at %s: %s' % (path, where, e))


def read_file(path, property_check=None):
    """The normalised namespace of one file, or DefinitionFileError."""
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except OSError as e:
        raise DefinitionFileError('%s: cannot be read: %s'
                                  % (path, e.strerror or e))
    except ValueError as e:
        # json.JSONDecodeError and UnicodeDecodeError both land here.
        raise DefinitionFileError('%s: is not valid JSON: %s' % (path, e))
    check(path, data, property_check)
    return normalise(data)


def list_files(path):
    """The .json files to load from ``path`` (a file or a directory),
    in name order so that every load sees them in the same order."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise DefinitionFileError('%s: no such file or directory' % path)
    names = sorted(name for name in os.listdir(path)
                   if name.endswith('.json')
                   and os.path.isfile(os.path.join(path, name)))
    if not names:
        raise DefinitionFileError('%s: holds no .json files' % path)
    return [os.path.join(path, name) for name in names]


def read_all(path, property_check=None):
    """Every namespace under ``path``, each checked; DefinitionFileError
    names the first bad file, and then nothing is to be loaded."""
    namespaces, origin = [], {}
    for file_path in list_files(path):
        namespace = read_file(file_path, property_check)
        name = namespace['namespace']
        if name in origin:
            raise DefinitionFileError(
                '%s: namespace %s is also defined in %s'
                % (file_path, name, origin[name]))
        origin[name] = file_path
        namespaces.append(namespace)
    return namespaces


# -- writing -----------------------------------------------------------

def to_document(namespace):
    """The file form of a namespace (as normalise() returns it), in a
    fixed key order. Optional values that are empty are left out, the
    way hand-written files leave them out; the four collections are
    always there."""
    document = {'namespace': namespace['namespace']}
    for key in ('display_name', 'description'):
        if namespace.get(key) is not None:
            document[key] = namespace[key]
    document['visibility'] = namespace['visibility']
    document['protected'] = bool(namespace['protected'])
    if namespace.get('owner') not in (None, DEFAULT_OWNER):
        document['owner'] = namespace['owner']
    associations = []
    for item in namespace['resource_type_associations']:
        association = {'name': item['name']}
        for key in ('prefix', 'properties_target'):
            if item.get(key) is not None:
                association[key] = item[key]
        associations.append(association)
    document['resource_type_associations'] = associations
    document['properties'] = namespace['properties']
    objects = []
    for item in namespace['objects']:
        entry = {'name': item['name']}
        if item.get('description') is not None:
            entry['description'] = item['description']
        entry['properties'] = item.get('properties') or {}
        if item.get('required'):
            entry['required'] = item['required']
        objects.append(entry)
    document['objects'] = objects
    document['tags'] = [{'name': tag['name']} for tag in namespace['tags']]
    return document


def dumps(namespace):
    """The text of a namespace's file: the layout of the shipped files
    (four-space indent, UTF-8, a final newline)."""
    return json.dumps(to_document(namespace), indent=4,
                      ensure_ascii=False) + '\n'


_NOT_IN_FILE_NAME = re.compile(r'[\W_]+', re.UNICODE)


def file_name(namespace, taken=()):
    """The reference's file name for an exported namespace: its display
    name without spaces, punctuation or underscores, plus ".json"; the
    namespace name stands in when that is empty or already taken."""
    for source in (namespace.get('display_name') or '',
                   namespace['namespace']):
        stem = _NOT_IN_FILE_NAME.sub('', source)
        if stem and stem + '.json' not in taken:
            return stem + '.json'
    stem = _NOT_IN_FILE_NAME.sub('', namespace['namespace']) or 'namespace'
    counter = 2
    while '%s-%d.json' % (stem, counter) in taken:
        counter += 1
    return '%s-%d.json' % (stem, counter)


def write_all(path, namespaces):
    """Write one file per namespace into directory ``path`` (created if
    missing); return the paths written.

    A namespace already defined by a file there is written over that
    file; any other gets the reference's file name (see file_name), and
    an existing file of that name is replaced, as the reference's export
    does.
    """
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise DefinitionFileError('%s: cannot be created: %s'
                                  % (path, e.strerror or e))
    in_place = existing_file_names(path)
    taken, written = set(in_place.values()), []
    for namespace in namespaces:
        name = in_place.get(namespace['namespace'])
        if name is None:
            name = file_name(namespace, taken)
            taken.add(name)
        target = os.path.join(path, name)
        try:
            with open(target, 'w', encoding='utf-8') as f:
                f.write(dumps(namespace))
        except OSError as e:
            raise DefinitionFileError('%s: cannot be written: %s'
                                      % (target, e.strerror or e))
        written.append(target)
    return written


# -- where the files are -----------------------------------------------

# The reference service's default, where distribution packages put them.
SYSTEM_PATH = '/etc/glance/metadefs/'


def _installed_paths():
    """Where the definitions shipped with Glance are: the data files of an
    installed package, then the etc/metadefs of a source checkout."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    return [os.path.join(sys.prefix, 'etc', 'glance', 'metadefs'),
            os.path.join(package_root, 'etc', 'metadefs')]


def default_path(configured=None):
    """The directory used when the command line names none."""
    if configured:
        return configured
    for candidate in [SYSTEM_PATH] + _installed_paths():
        if os.path.isdir(candidate):
            return candidate
    return SYSTEM_PATH


def existing_file_names(path):
    """{namespace name: file name} of the definition files already in
    directory ``path``, so that an export rewrites an operator's file in
    place instead of adding a second file for the same namespace.
    Unreadable files are passed over: export replaces nothing it cannot
    read."""
    names = {}
    if not os.path.isdir(path):
        return names
    for name in sorted(os.listdir(path)):
        if not name.endswith('.json'):
            continue
        try:
            with open(os.path.join(path, name), encoding='utf-8') as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get('namespace'),
                                                 str):
            names.setdefault(data['namespace'], name)
    return names
