"""Parsing of GET /v2/images query parameters (filters, sort, paging).

Pure functions: a webob MultiDict in, an ImageQuery out, BadRequest for
anything the reference refuses with 400.
"""

import csv
import dataclasses
import uuid

from oslo_utils import timeutils

from glance.common import exception

SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size',
             'id', 'created_at', 'updated_at')
SORT_DIRS = ('asc', 'desc')
VISIBILITIES = ('public', 'private', 'shared', 'community', 'all')
MEMBER_STATUSES = ('accepted', 'pending', 'rejected', 'all')
TIME_OPERATORS = ('gt', 'gte', 'lt', 'lte', 'eq', 'neq')
IN_COLUMNS = ('id', 'name', 'status', 'container_format', 'disk_format')
EXACT_COLUMNS = IN_COLUMNS + ('owner', 'checksum', 'os_hash_value')
BOOLEAN_COLUMNS = ('protected', 'os_hidden')
# Integer columns: exact filters, and <column>_min / <column>_max ranges.
INT_COLUMNS = ('size', 'virtual_size', 'min_disk', 'min_ram')
# What the columns hold: a filter value beyond it is refused (400), not
# handed to the database driver.
INT_MAXIMUM = {'size': 2 ** 63 - 1, 'virtual_size': 2 ** 63 - 1,
               'min_disk': 2 ** 31 - 1, 'min_ram': 2 ** 31 - 1}
RANGE_PARAMS = {column + suffix: (column, op) for column in INT_COLUMNS
                for suffix, op in (('_min', 'gte'), ('_max', 'lte'))}
NOT_FILTERS = ('limit', 'marker', 'sort', 'sort_key', 'sort_dir',
               'visibility', 'member_status', 'tag') + tuple(RANGE_PARAMS)


@dataclasses.dataclass
class ImageQuery:
    filters: list = dataclasses.field(default_factory=list)
    properties: dict = dataclasses.field(default_factory=dict)
    tags: list = dataclasses.field(default_factory=list)
    visibility: str = None
    member_status: str = 'accepted'
    marker: str = None
    limit: int = 25
    sort_keys: list = dataclasses.field(default_factory=list)
    sort_dirs: list = dataclasses.field(default_factory=list)


def _one(params, name):
    values = params.getall(name)
    if len(values) > 1:
        raise exception.BadRequest('Parameter %s may be given only once.'
                                   % name)
    return values[0] if values else None


def parse_bool(name, value):
    lowered = value.strip().lower()
    if lowered in ('true', '1', 'yes', 'on'):
        return True
    if lowered in ('false', '0', 'no', 'off'):
        return False
    raise exception.BadRequest('Invalid value for %s: %r; expected true or '
                               'false.' % (name, value))


def parse_int(name, value, minimum=0, maximum=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise exception.BadRequest('%s param must be an integer.' % name)
    if number < minimum:
        raise exception.BadRequest('%s param must be at least %d.'
                                   % (name, minimum))
    if maximum is not None and number > maximum:
        raise exception.BadRequest('%s param must be at most %d.'
                                   % (name, maximum))
    return number


def split_in_list(value):
    """'"a, b",c' -> ['a, b', 'c'], as the in: operator reads it."""
    try:
        row = next(csv.reader([value], skipinitialspace=True,
                              strict=True))
    except (csv.Error, StopIteration):
        raise exception.BadRequest('Invalid in: list %r.' % value)
    return [item for item in row]


def _column_filter(name, value):
    if value.startswith('in:'):
        if name not in IN_COLUMNS:
            raise exception.BadRequest('The in: operator is not supported '
                                       'for %s.' % name)
        return (name, 'in', split_in_list(value[3:]))
    return (name, 'eq', value)


def parse_time_filter(name, value):
    op, sep, moment = value.partition(':')
    if not sep or op not in TIME_OPERATORS:
        # No operator: the whole value is the time, compared with eq.
        op, moment = 'eq', value
    try:
        parsed = timeutils.parse_isotime(moment)
    except ValueError:
        raise exception.BadRequest('Invalid time %r for %s; use ISO 8601.'
                                   % (moment, name))
    return (name, op, timeutils.normalize_time(parsed))


def _parse_sort(params):
    sort = _one(params, 'sort')
    keys = params.getall('sort_key')
    dirs = params.getall('sort_dir')
    if sort is not None:
        if keys or dirs:
            raise exception.BadRequest('The "sort" parameter cannot be '
                                       'combined with sort_key or '
                                       'sort_dir.')
        keys, dirs = [], []
        for item in sort.split(','):
            key, _sep, direction = item.strip().partition(':')
            keys.append(key.strip())
            dirs.append(direction.strip() or 'desc')
    else:
        keys = keys or ['created_at']
        if not dirs:
            dirs = ['desc'] * len(keys)
        elif len(dirs) == 1:
            dirs = dirs * len(keys)
        elif len(dirs) != len(keys):
            raise exception.BadRequest('The number of sort_dir values must '
                                       'be one or match sort_key.')
    for key in keys:
        if key not in SORT_KEYS:
            raise exception.BadRequest('Invalid sort key: %s. It must be '
                                       'one of: %s.' % (key,
                                                        ', '.join(SORT_KEYS)))
    for direction in dirs:
        if direction not in SORT_DIRS:
            raise exception.BadRequest('Invalid sort direction: %s.'
                                       % direction)
    return keys, dirs


def parse(params, limit_default=25, limit_max=1000):
    """An ImageQuery from the query string of GET /v2/images."""
    query = ImageQuery()
    if 'changes-since' in params:
        raise exception.BadRequest('changes-since is not supported in v2; '
                                   'use updated_at filters.')

    limit = _one(params, 'limit')
    query.limit = (limit_default if limit is None
                   else min(parse_int('limit', limit), limit_max))

    marker = _one(params, 'marker')
    if marker is not None:
        try:
            uuid.UUID(marker)
        except ValueError:
            raise exception.BadRequest('No image found with ID %s' % marker)
        query.marker = marker

    query.sort_keys, query.sort_dirs = _parse_sort(params)

    visibility = _one(params, 'visibility')
    if visibility is not None:
        if visibility not in VISIBILITIES:
            raise exception.BadRequest('Invalid visibility value: %s'
                                       % visibility)
        query.visibility = visibility

    member_status = _one(params, 'member_status')
    if member_status is not None:
        if member_status not in MEMBER_STATUSES:
            raise exception.BadRequest('Invalid status value: %s'
                                       % member_status)
        query.member_status = member_status

    os_hidden = False
    for name, (column, op) in RANGE_PARAMS.items():
        value = _one(params, name)
        if value is not None:
            query.filters.append((column, op, parse_int(
                name, value, maximum=INT_MAXIMUM[column])))

    query.tags = [tag for tag in params.getall('tag')]

    for name, value in params.items():
        if name in NOT_FILTERS:
            continue
        if name in BOOLEAN_COLUMNS:
            flag = parse_bool(name, value)
            if name == 'os_hidden':
                os_hidden = flag
            else:
                query.filters.append((name, 'eq', flag))
        elif name in ('created_at', 'updated_at'):
            query.filters.append(parse_time_filter(name, value))
        elif name in EXACT_COLUMNS:
            query.filters.append(_column_filter(name, value))
        elif name in INT_COLUMNS:
            query.filters.append((name, 'eq', parse_int(
                name, value, maximum=INT_MAXIMUM[name])))
        else:
            query.properties[name] = value
    query.filters.append(('os_hidden', 'eq', os_hidden))
    return query
