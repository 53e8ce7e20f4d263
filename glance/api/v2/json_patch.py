"""The two JSON-patch media types of PATCH /v2/images/{id}.

``application/openstack-images-v2.1-json-patch`` is the RFC 6902 subset
(add, remove, replace); ``...-v2.0-json-patch`` is the older draft-4 form
where the operation is the key (``{"replace": "/name", "value": "x"}``).
This module only reads the document into Change tuples; what a change
may do to an image is the controller's and the domain's business.
"""

import collections
import re

from glance.common import exception

MEDIA_TYPE_21 = 'application/openstack-images-v2.1-json-patch'
MEDIA_TYPE_20 = 'application/openstack-images-v2.0-json-patch'
MEDIA_TYPES = (MEDIA_TYPE_20, MEDIA_TYPE_21)
ACCEPT_PATCH = ', '.join(MEDIA_TYPES)
OPERATIONS = ('add', 'remove', 'replace')

Change = collections.namedtuple('Change', 'op path value')
NO_VALUE = object()
# A "~" is only allowed as part of "~0" or "~1".
_BAD_ESCAPE = re.compile(r'~(?![01])')


def decode_pointer(pointer):
    """'/a~1b/0' -> ('a/b', '0'); BadRequest for a malformed pointer."""
    if not isinstance(pointer, str):
        raise exception.BadRequest('Patch path must be a string.')
    if not pointer.startswith('/'):
        raise exception.BadRequest('Pointer `%s` does not start with "/".'
                                   % pointer)
    parts = pointer[1:].split('/')
    decoded = []
    for part in parts:
        if _BAD_ESCAPE.search(part):
            raise exception.BadRequest('Pointer `%s` contains "~" not part '
                                       'of a recognized escape sequence.'
                                       % pointer)
        if part == '':
            raise exception.BadRequest('Pointer `%s` contains adjacent or '
                                       'trailing "/".' % pointer)
        decoded.append(part.replace('~1', '/').replace('~0', '~'))
    return tuple(decoded)


def _parse_21(item):
    op = item.get('op')
    if op not in OPERATIONS:
        raise exception.BadRequest('Operation must be one of %s, not %r.'
                                   % (', '.join(OPERATIONS), op))
    if 'path' not in item:
        raise exception.BadRequest('Unable to find `path` in JSON Schema '
                                   'change.')
    path = item['path']
    return op, path


def _parse_20(item):
    ops = [key for key in OPERATIONS if key in item]
    if len(ops) != 1:
        raise exception.BadRequest('Each change must name exactly one of '
                                   '%s.' % ', '.join(OPERATIONS))
    return ops[0], item[ops[0]]


def parse(document, media_type):
    """Changes from a parsed JSON document of the given media type."""
    if not isinstance(document, list):
        raise exception.BadRequest('Request body must be a JSON array of '
                                   'operation objects.')
    read = _parse_21 if media_type == MEDIA_TYPE_21 else _parse_20
    changes = []
    for item in document:
        if not isinstance(item, dict):
            raise exception.BadRequest('Operations must be JSON objects.')
        op, pointer = read(item)
        path = decode_pointer(pointer)
        if op in ('add', 'replace'):
            if 'value' not in item:
                raise exception.BadRequest('Operation "%s" requires a '
                                           'member named "value".' % op)
            value = item['value']
        else:
            value = NO_VALUE
        changes.append(Change(op, path, value))
    return changes
