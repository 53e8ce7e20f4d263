"""GET /v2/images query parameters: filters, sorting and paging.

doc/source/api-notes.rst: api-notes-list-params, api-notes-time-filters,
api-notes-list-validation.
"""

import datetime
import uuid

import pytest
from webob import multidict

from glance.api.v2 import list_params as lp
from glance.common import exception

UUID = '5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0'
HIDDEN = ('os_hidden', 'eq', False)


def params(*pairs, **kwargs):
    return multidict.MultiDict(list(pairs) + list(kwargs.items()))


def parse(*pairs, **kwargs):
    limits = {k: kwargs.pop(k) for k in ('limit_default', 'limit_max')
              if k in kwargs}
    return lp.parse(params(*pairs, **kwargs), **limits)


def bad(*pairs, **kwargs):
    with pytest.raises(exception.BadRequest) as info:
        parse(*pairs, **kwargs)
    assert info.value.code == 400
    return info.value.message


def filters(*pairs, **kwargs):
    """The filters other than the default os_hidden one."""
    return [f for f in parse(*pairs, **kwargs).filters if f != HIDDEN]


# -- defaults -------------------------------------------------------------

def test_defaults():
    query = parse()
    assert query.filters == [HIDDEN]
    assert query.properties == {}
    assert query.tags == []
    assert query.visibility is None
    assert query.member_status == 'accepted'
    assert query.marker is None
    assert query.limit == 25
    assert query.sort_keys == ['created_at']
    assert query.sort_dirs == ['desc']


def test_works_with_a_webob_request():
    import webob
    request = webob.Request.blank(
        '/v2/images?tag=a&tag=b&name=in:%22x,%20y%22,z&limit=3'
        '&sort=name:asc&os_distro=debian')
    query = lp.parse(request.GET)
    assert query.tags == ['a', 'b']
    assert ('name', 'in', ['x, y', 'z']) in query.filters
    assert query.limit == 3
    assert query.sort_keys == ['name'] and query.sort_dirs == ['asc']
    assert query.properties == {'os_distro': 'debian'}


# -- limit ----------------------------------------------------------------

@pytest.mark.parametrize('value,expected', [('0', 0), ('1', 1), ('25', 25),
                                            ('999', 999), ('1000', 1000),
                                            ('1001', 1000),
                                            ('100000000', 1000)])
def test_limit(value, expected):
    # Above api_limit_max: capped silently; 0 is allowed (empty page).
    assert parse(limit=value).limit == expected


def test_limit_default_and_max_are_parameters():
    assert parse(limit_default=7).limit == 7
    assert parse(limit='50', limit_max=20).limit == 20
    assert parse(limit='5', limit_max=20).limit == 5


@pytest.mark.parametrize('value', ['-1', 'abc', '', '1.5', '1e3', 'None',
                                   '0x10'])
def test_bad_limit(value):
    assert 'limit' in bad(limit=value)


def test_limit_twice():
    bad(('limit', '1'), ('limit', '2'))


# -- marker ---------------------------------------------------------------

def test_marker():
    assert parse(marker=UUID).marker == UUID


@pytest.mark.parametrize('value', ['', 'abc', '1234', UUID[:-1],
                                   UUID + 'x'])
def test_marker_not_a_uuid(value):
    message = bad(marker=value)
    assert message == 'No image found with ID %s' % value


def test_marker_twice():
    bad(('marker', UUID), ('marker', str(uuid.uuid4())))


# -- sort -----------------------------------------------------------------

@pytest.mark.parametrize('key', lp.SORT_KEYS)
def test_every_sort_key(key):
    query = parse(sort_key=key)
    assert query.sort_keys == [key]
    assert query.sort_dirs == ['desc']
    query = parse(sort=key + ':asc')
    assert query.sort_keys == [key]
    assert query.sort_dirs == ['asc']


def test_sort_keys():
    assert set(lp.SORT_KEYS) == {'name', 'status', 'container_format',
                                 'disk_format', 'size', 'id', 'created_at',
                                 'updated_at'}


def test_sort_key_repeated_default_dir():
    query = parse(('sort_key', 'name'), ('sort_key', 'size'))
    assert query.sort_keys == ['name', 'size']
    assert query.sort_dirs == ['desc', 'desc']


def test_sort_key_one_dir_for_all():
    query = parse(('sort_key', 'name'), ('sort_key', 'size'),
                  ('sort_dir', 'asc'))
    assert query.sort_dirs == ['asc', 'asc']


def test_sort_key_one_dir_per_key():
    query = parse(('sort_key', 'name'), ('sort_key', 'size'),
                  ('sort_dir', 'asc'), ('sort_dir', 'desc'))
    assert query.sort_keys == ['name', 'size']
    assert query.sort_dirs == ['asc', 'desc']


def test_sort_dir_without_key_applies_to_created_at():
    query = parse(sort_dir='asc')
    assert query.sort_keys == ['created_at']
    assert query.sort_dirs == ['asc']


@pytest.mark.parametrize('pairs', [
    [('sort_key', 'name'), ('sort_dir', 'asc'), ('sort_dir', 'desc'),
     ('sort_dir', 'asc')],
    [('sort_key', 'name'), ('sort_key', 'size'), ('sort_key', 'id'),
     ('sort_dir', 'asc'), ('sort_dir', 'desc')],
    [('sort_dir', 'asc'), ('sort_dir', 'desc')],
])
def test_sort_dir_count_mismatch(pairs):
    bad(*pairs)


def test_sort_combined():
    query = parse(sort='name:asc,size')
    assert query.sort_keys == ['name', 'size']
    # A key without a direction sorts descending.
    assert query.sort_dirs == ['asc', 'desc']


def test_sort_without_direction_is_desc():
    query = parse(sort='name')
    assert query.sort_keys == ['name']
    assert query.sort_dirs == ['desc']


def test_sort_spaces_are_ignored():
    query = parse(sort=' name : asc , size:desc ')
    assert query.sort_keys == ['name', 'size']
    assert query.sort_dirs == ['asc', 'desc']


@pytest.mark.parametrize('pairs', [
    [('sort', 'name'), ('sort_key', 'size')],
    [('sort', 'name'), ('sort_dir', 'asc')],
    [('sort', 'name:asc'), ('sort_key', 'name'), ('sort_dir', 'asc')],
])
def test_sort_mixed_with_sort_key_or_dir(pairs):
    assert 'sort' in bad(*pairs)


@pytest.mark.parametrize('pairs', [
    [('sort_key', 'bogus')], [('sort_key', 'owner')],
    [('sort_key', 'os_distro')], [('sort_key', '')], [('sort_key', 'Name')],
    [('sort', 'bogus')], [('sort', 'bogus:asc')], [('sort', '')],
    [('sort', 'name,')], [('sort', ',name')],
])
def test_bad_sort_key(pairs):
    assert 'sort key' in bad(*pairs)


@pytest.mark.parametrize('pairs', [
    [('sort_dir', 'up')], [('sort_dir', 'ASC')], [('sort_dir', '')],
    [('sort_key', 'name'), ('sort_dir', 'bogus')],
    [('sort', 'name:up')], [('sort', 'name:asc:desc')],
    [('sort', 'name:asc,size:sideways')],
])
def test_bad_sort_dir(pairs):
    assert 'direction' in bad(*pairs)


def test_sort_twice():
    bad(('sort', 'name'), ('sort', 'size'))


# -- visibility / member_status -------------------------------------------

@pytest.mark.parametrize('value', ['public', 'private', 'shared',
                                   'community', 'all'])
def test_visibility(value):
    query = parse(visibility=value)
    assert query.visibility == value
    # Visibility is not a column filter: the data layer decides.
    assert query.filters == [HIDDEN]
    assert query.properties == {}


@pytest.mark.parametrize('value', ['bogus', '', 'Public', 'PUBLIC',
                                   'public,private'])
def test_bad_visibility(value):
    assert 'visibility' in bad(visibility=value)


@pytest.mark.parametrize('value', ['accepted', 'pending', 'rejected',
                                   'all'])
def test_member_status(value):
    query = parse(member_status=value)
    assert query.member_status == value
    assert query.properties == {}


@pytest.mark.parametrize('value', ['bogus', '', 'Accepted', 'denied'])
def test_bad_member_status(value):
    bad(member_status=value)


def test_visibility_twice():
    bad(('visibility', 'public'), ('visibility', 'private'))


def test_member_status_twice():
    bad(('member_status', 'pending'), ('member_status', 'accepted'))


# -- booleans -------------------------------------------------------------

@pytest.mark.parametrize('value,expected', [
    ('true', True), ('True', True), ('TRUE', True), ('1', True),
    ('yes', True), ('on', True), (' true ', True),
    ('false', False), ('False', False), ('0', False), ('no', False),
    ('off', False)])
def test_protected(value, expected):
    assert filters(protected=value) == [('protected', 'eq', expected)]


@pytest.mark.parametrize('value,expected', [('true', True),
                                            ('false', False),
                                            ('1', True), ('0', False)])
def test_os_hidden(value, expected):
    query = parse(os_hidden=value)
    assert query.filters == [('os_hidden', 'eq', expected)]


def test_hidden_images_are_left_out_by_default():
    assert parse().filters == [('os_hidden', 'eq', False)]


@pytest.mark.parametrize('name', ['protected', 'os_hidden'])
@pytest.mark.parametrize('value', ['maybe', '', '2', 'tru', 'null'])
def test_bad_boolean(name, value):
    assert name in bad((name, value))


# -- exact column filters -------------------------------------------------

@pytest.mark.parametrize('name', ['name', 'id', 'status', 'owner',
                                  'checksum', 'os_hash_value',
                                  'container_format', 'disk_format'])
def test_exact_column_filters(name):
    assert filters((name, 'value')) == [(name, 'eq', 'value')]


def test_status_is_not_validated():
    # status=bogus gives an empty list, not 400.
    assert filters(status='bogus') == [('status', 'eq', 'bogus')]


def test_several_filters():
    got = filters(name='n', status='active', disk_format='raw')
    assert sorted(got) == [('disk_format', 'eq', 'raw'),
                           ('name', 'eq', 'n'), ('status', 'eq', 'active')]


def test_values_are_not_stripped():
    assert filters(name=' spaced ') == [('name', 'eq', ' spaced ')]


def test_changes_since_is_v1_only():
    assert 'changes-since' in bad(**{'changes-since':
                                     '2000-01-01T00:00:00Z'})


# -- in: ------------------------------------------------------------------

@pytest.mark.parametrize('name', lp.IN_COLUMNS)
def test_in_operator(name):
    assert filters((name, 'in:a,b,c')) == [(name, 'in', ['a', 'b', 'c'])]


def test_in_columns():
    assert set(lp.IN_COLUMNS) == {'id', 'name', 'status',
                                  'container_format', 'disk_format'}


@pytest.mark.parametrize('value,expected', [
    ('in:a', ['a']),
    ('in:a,b', ['a', 'b']),
    ('in:a, b', ['a', 'b']),
    ('in:"a, b",c', ['a, b', 'c']),
    ('in:"a,b"', ['a,b']),
    ('in:c,"a, b"', ['c', 'a, b']),
    ('in:"say ""hi""",x', ['say "hi"', 'x']),
    ('in:a b,c', ['a b', 'c']),
    ('in:a,,b', ['a', '', 'b']),
])
def test_in_list_splitting(value, expected):
    assert filters(name=value) == [('name', 'in', expected)]


def test_in_empty_list():
    assert filters(name='in:') == [('name', 'in', [])]


@pytest.mark.parametrize('value', ['in:"a,b', 'in:"a" b,c'])
def test_in_bad_quoting(value):
    assert 'in:' in bad(name=value)


@pytest.mark.parametrize('name', ['owner', 'checksum', 'os_hash_value'])
def test_in_not_supported(name):
    assert 'in:' in bad((name, 'in:a,b'))


def test_in_on_a_property_is_a_literal_value():
    query = parse(os_distro='in:a,b')
    assert query.properties == {'os_distro': 'in:a,b'}


def test_in_is_case_sensitive_prefix():
    assert filters(name='IN:a,b') == [('name', 'eq', 'IN:a,b')]


# -- sizes and other integer columns --------------------------------------

def test_size_min_max():
    assert sorted(filters(size_min='10', size_max='20')) == [
        ('size', 'gte', 10), ('size', 'lte', 20)]


def test_size_min_equal_bounds():
    assert sorted(filters(size_min='0', size_max='0')) == [
        ('size', 'gte', 0), ('size', 'lte', 0)]


@pytest.mark.parametrize('name', ['size_min', 'size_max', 'min_ram_min',
                                  'min_disk_max', 'virtual_size_min'])
@pytest.mark.parametrize('value', ['abc', '-1', '', '1.5'])
def test_bad_range(name, value):
    assert name in bad((name, value))


@pytest.mark.parametrize('name,value', [
    ('size_max', str(2 ** 63)), ('size_min', str(2 ** 64)),
    ('virtual_size_max', '9' * 40), ('size', str(2 ** 63)),
    ('min_ram_max', str(2 ** 31)), ('min_disk_min', str(2 ** 31)),
    ('min_ram', str(2 ** 31)), ('min_disk', str(2 ** 63)),
])
def test_integer_filters_beyond_their_column(name, value):
    # Once a 500 from the database driver; each column's range is checked.
    assert name in bad((name, value))


@pytest.mark.parametrize('name,value', [
    ('size_max', 2 ** 63 - 1), ('virtual_size_min', 2 ** 63 - 1),
    ('min_ram_max', 2 ** 31 - 1), ('min_disk_min', 2 ** 31 - 1),
])
def test_integer_filters_at_their_column_maximum(name, value):
    assert len(filters((name, str(value)))) == 1


@pytest.mark.parametrize('name,column,op', [
    ('virtual_size_min', 'virtual_size', 'gte'),
    ('virtual_size_max', 'virtual_size', 'lte'),
    ('min_ram_min', 'min_ram', 'gte'),
    ('min_ram_max', 'min_ram', 'lte'),
    ('min_disk_min', 'min_disk', 'gte'),
    ('min_disk_max', 'min_disk', 'lte'),
])
def test_generic_ranges(name, column, op):
    # "generic *_min/*_max" on the integer columns.
    assert filters((name, '512')) == [(column, op, 512)]


@pytest.mark.parametrize('name', lp.INT_COLUMNS)
def test_integer_columns_exact(name):
    # Base columns, never extra properties (those would match nothing).
    query = parse((name, '512'))
    assert (name, 'eq', 512) in query.filters
    assert query.properties == {}


@pytest.mark.parametrize('name', lp.INT_COLUMNS)
def test_integer_columns_exact_bad(name):
    bad((name, 'big'))


def test_size_min_twice():
    bad(('size_min', '1'), ('size_min', '2'))


# -- time filters (doc/source/api-notes.rst, api-notes-time-filters) ------

T = datetime.datetime(2026, 11, 22, 1, 42, 44)


@pytest.mark.parametrize('name', ['created_at', 'updated_at'])
@pytest.mark.parametrize('op', lp.TIME_OPERATORS)
def test_time_operators(name, op):
    assert filters((name, '%s:2026-11-22T01:42:44Z' % op)) == [
        (name, op, T)]


def test_time_operators_are_the_documented_ones():
    assert set(lp.TIME_OPERATORS) == {'gt', 'gte', 'lt', 'lte', 'eq',
                                      'neq'}


@pytest.mark.parametrize('name', ['created_at', 'updated_at'])
def test_time_without_operator_is_eq(name):
    assert filters((name, '2026-11-22T01:42:44Z')) == [(name, 'eq', T)]


def test_time_bare_date():
    assert filters(created_at='gte:2000-01-01') == [
        ('created_at', 'gte', datetime.datetime(2000, 1, 1))]


def test_time_bare_date_without_operator():
    assert filters(created_at='2000-01-01') == [
        ('created_at', 'eq', datetime.datetime(2000, 1, 1))]


@pytest.mark.parametrize('value,expected', [
    ('lt:2026-11-22T03:42:44+02:00', T),
    ('lt:2026-11-21T20:42:44-05:00', T),
    ('lt:2026-11-22T01:42:44+00:00', T),
    ('lt:2026-11-22T01:42:44', T),
    ('lt:2026-11-22T07:12:44+05:30', T),
])
def test_time_offsets_become_naive_utc(value, expected):
    [(_name, _op, moment)] = filters(updated_at=value)
    assert moment == expected
    assert moment.tzinfo is None


def test_time_microseconds_are_kept():
    [(_n, _o, moment)] = filters(created_at='gt:2026-11-22T01:42:44.123456Z')
    assert moment == T.replace(microsecond=123456)


def test_time_range():
    got = filters(('created_at', 'gt:2000-01-01T00:00:00Z'),
                  ('created_at', 'lt:2001-01-01T00:00:00Z'))
    assert got == [
        ('created_at', 'gt', datetime.datetime(2000, 1, 1)),
        ('created_at', 'lt', datetime.datetime(2001, 1, 1))]


@pytest.mark.parametrize('value', ['yesterday', '', 'gt:', 'gt:soon',
                                   'eq:2026-13-01T00:00:00Z',
                                   'bogus:2026-11-22T01:42:44Z',
                                   'GT:2026-11-22T01:42:44Z',
                                   '2026-11-22 01:42:44 UTC!'])
def test_bad_time(value):
    assert 'created_at' in bad(created_at=value)


def test_parse_time_filter_directly():
    assert lp.parse_time_filter('created_at', 'neq:2000-01-01') == (
        'created_at', 'neq', datetime.datetime(2000, 1, 1))


# -- tags and properties --------------------------------------------------

def test_repeated_tag():
    query = parse(('tag', 'a'), ('tag', 'b'), ('tag', 'c d'))
    assert query.tags == ['a', 'b', 'c d']
    assert query.properties == {}
    assert query.filters == [HIDDEN]


def test_tag_with_comma_is_one_tag():
    assert parse(tag='a,b').tags == ['a,b']


def test_property_filters():
    query = parse(os_distro='debian', hw_disk_bus='virtio')
    assert query.properties == {'os_distro': 'debian',
                                'hw_disk_bus': 'virtio'}
    assert query.filters == [HIDDEN]


def test_property_filter_values_are_strings():
    assert parse(foo='1').properties == {'foo': '1'}
    assert parse(foo='').properties == {'foo': ''}


def test_unknown_parameters_are_property_filters():
    # Anything not a known parameter is an extra property.
    query = parse(page='2', foo_min='1', created='x')
    assert query.properties == {'page': '2', 'foo_min': '1',
                                'created': 'x'}


def test_everything_together():
    query = parse(('name', 'in:"a, b",c'), ('status', 'active'),
                  ('visibility', 'shared'), ('member_status', 'pending'),
                  ('os_hidden', 'true'), ('protected', 'false'),
                  ('size_min', '1'), ('size_max', '9'),
                  ('created_at', 'gte:2000-01-01'), ('tag', 'x'),
                  ('tag', 'y'), ('os_distro', 'debian'),
                  ('sort', 'name:asc,size'), ('limit', '2000'),
                  ('marker', UUID))
    assert sorted(query.filters, key=repr) == sorted([
        ('name', 'in', ['a, b', 'c']), ('status', 'eq', 'active'),
        ('os_hidden', 'eq', True), ('protected', 'eq', False),
        ('size', 'gte', 1), ('size', 'lte', 9),
        ('created_at', 'gte', datetime.datetime(2000, 1, 1))], key=repr)
    assert query.visibility == 'shared'
    assert query.member_status == 'pending'
    assert query.tags == ['x', 'y']
    assert query.properties == {'os_distro': 'debian'}
    assert query.sort_keys == ['name', 'size']
    assert query.sort_dirs == ['asc', 'desc']
    assert query.limit == 1000
    assert query.marker == UUID


# -- helpers --------------------------------------------------------------

def test_parse_int():
    assert lp.parse_int('x', '5') == 5
    assert lp.parse_int('x', '0') == 0
    assert lp.parse_int('x', '-1', minimum=-5) == -1
    with pytest.raises(exception.BadRequest):
        lp.parse_int('x', '-1')
    with pytest.raises(exception.BadRequest):
        lp.parse_int('x', None)


def test_split_in_list():
    assert lp.split_in_list('"a, b",c') == ['a, b', 'c']
    with pytest.raises(exception.BadRequest):
        lp.split_in_list('"open')
