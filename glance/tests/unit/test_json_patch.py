"""Reading the two JSON-patch media types of PATCH /v2/images/{id}."""

import pytest

from glance.api.v2 import json_patch as jp
from glance.common import exception

V21 = jp.MEDIA_TYPE_21
V20 = jp.MEDIA_TYPE_20


def bad(document, media_type=V21):
    with pytest.raises(exception.BadRequest) as info:
        jp.parse(document, media_type)
    assert info.value.code == 400
    return info.value.message


def test_media_types():
    assert V21 == 'application/openstack-images-v2.1-json-patch'
    assert V20 == 'application/openstack-images-v2.0-json-patch'
    assert set(jp.MEDIA_TYPES) == {V20, V21}
    assert V20 in jp.ACCEPT_PATCH and V21 in jp.ACCEPT_PATCH
    assert jp.OPERATIONS == ('add', 'remove', 'replace')


# -- v2.1 (RFC 6902 subset) ----------------------------------------------

def test_21_all_operations():
    changes = jp.parse([
        {'op': 'add', 'path': '/os_distro', 'value': 'debian'},
        {'op': 'replace', 'path': '/name', 'value': 'new'},
        {'op': 'remove', 'path': '/os_version'},
    ], V21)
    assert changes == [
        jp.Change('add', ('os_distro',), 'debian'),
        jp.Change('replace', ('name',), 'new'),
        jp.Change('remove', ('os_version',), jp.NO_VALUE),
    ]
    assert changes[2].value is jp.NO_VALUE


def test_21_empty_list():
    assert jp.parse([], V21) == []


def test_21_order_is_kept():
    changes = jp.parse([{'op': 'add', 'path': '/%d' % i, 'value': str(i)}
                        for i in range(10)], V21)
    assert [c.path for c in changes] == [(str(i),) for i in range(10)]


@pytest.mark.parametrize('value', [None, '', 0, False, [], {}, ['a', 'b'],
                                   {'k': 'v'}, 1.5])
def test_21_any_json_value_is_read(value):
    # Whether the value suits the attribute is the schema's business.
    [change] = jp.parse([{'op': 'replace', 'path': '/x', 'value': value}],
                        V21)
    assert change.value == value


def test_21_remove_ignores_a_value():
    [change] = jp.parse([{'op': 'remove', 'path': '/x', 'value': 'v'}], V21)
    assert change.value is jp.NO_VALUE


def test_21_extra_members_are_ignored():
    [change] = jp.parse([{'op': 'add', 'path': '/x', 'value': '1',
                          'from': '/y', 'other': 2}], V21)
    assert change == jp.Change('add', ('x',), '1')


def test_21_multi_segment_path():
    [change] = jp.parse([{'op': 'add', 'path': '/locations/0',
                          'value': {'url': 'u', 'metadata': {}}}], V21)
    assert change.path == ('locations', '0')


def test_21_location_dash_index():
    [change] = jp.parse([{'op': 'add', 'path': '/locations/-',
                          'value': {}}], V21)
    assert change.path == ('locations', '-')


@pytest.mark.parametrize('op', ['move', 'copy', 'test', 'ADD', 'Add', '',
                                None, 1, ['add'], {'add': 1}])
def test_21_bad_op(op):
    bad([{'op': op, 'path': '/name', 'value': 'x'}])


def test_21_missing_op():
    bad([{'path': '/name', 'value': 'x'}])


def test_21_op_as_key_is_not_21():
    # The draft-4 form under the 2.1 media type.
    bad([{'replace': '/name', 'value': 'x'}])


@pytest.mark.parametrize('op', ['add', 'replace', 'remove'])
def test_21_missing_path(op):
    message = bad([{'op': op, 'value': 'x'}])
    assert 'path' in message


@pytest.mark.parametrize('op', ['add', 'replace'])
def test_21_missing_value(op):
    message = bad([{'op': op, 'path': '/name'}])
    assert 'value' in message


@pytest.mark.parametrize('path', [None, 1, ['name'], {'p': 1}, True])
def test_21_path_not_a_string(path):
    bad([{'op': 'add', 'path': path, 'value': 'x'}])


@pytest.mark.parametrize('document', [
    {}, {'op': 'add', 'path': '/name', 'value': 'x'}, 'add', '', 1, None,
    True])
def test_not_a_list(document):
    message = bad(document)
    assert 'array' in message
    bad(document, V20)


@pytest.mark.parametrize('item', ['add', 1, None, [], ['add', '/x'], True])
def test_item_not_an_object(item):
    bad([item])
    bad([item], V20)


def test_one_bad_item_spoils_the_lot():
    bad([{'op': 'add', 'path': '/a', 'value': '1'}, 'oops'])
    bad([{'op': 'add', 'path': '/a', 'value': '1'},
         {'op': 'add', 'path': '/b'}])


# -- v2.0 (draft 4: the operation is the key) ----------------------------

def test_20_all_operations():
    changes = jp.parse([
        {'add': '/os_distro', 'value': 'debian'},
        {'replace': '/name', 'value': 'new'},
        {'remove': '/os_version'},
    ], V20)
    assert changes == [
        jp.Change('add', ('os_distro',), 'debian'),
        jp.Change('replace', ('name',), 'new'),
        jp.Change('remove', ('os_version',), jp.NO_VALUE),
    ]


def test_20_empty_list():
    assert jp.parse([], V20) == []


@pytest.mark.parametrize('item', [
    {'value': 'x'},
    {'add': '/a', 'replace': '/b', 'value': 'x'},
    {'add': '/a', 'remove': '/b'},
    {'move': '/a', 'value': 'x'},
    {'copy': '/a', 'value': 'x'},
    {'test': '/a', 'value': 'x'},
    # The 2.1 form under the 2.0 media type.
    {'op': 'add', 'path': '/a', 'value': 'x'},
])
def test_20_not_exactly_one_op(item):
    bad([item], V20)


@pytest.mark.parametrize('op', ['add', 'replace'])
def test_20_missing_value(op):
    message = bad([{op: '/name'}], V20)
    assert 'value' in message


@pytest.mark.parametrize('pointer', [None, 1, ['a'], 'name', '', 'a/b'])
def test_20_bad_pointer(pointer):
    bad([{'add': pointer, 'value': 'x'}], V20)


def test_20_pointer_escapes():
    [change] = jp.parse([{'remove': '/a~1b~0c'}], V20)
    assert change.path == ('a/b~c',)


def test_unknown_media_type_reads_as_20():
    # The controller refuses other media types (415) before parsing.
    assert jp.parse([{'add': '/a', 'value': '1'}], 'application/json') \
        == [jp.Change('add', ('a',), '1')]


# -- JSON pointers --------------------------------------------------------

@pytest.mark.parametrize('pointer,expected', [
    ('/name', ('name',)),
    ('/a~1b', ('a/b',)),
    ('/a~0b', ('a~b',)),
    ('/~0', ('~',)),
    ('/~1', ('/',)),
    ('/~01', ('~1',)),      # ~0 first, then a literal 1: not a slash
    ('/~10', ('/0',)),
    ('/~0~1', ('~/',)),
    ('/~1~0', ('/~',)),
    ('/~00', ('~0',)),
    ('/a~1b/c~0d', ('a/b', 'c~d')),
    ('/locations/0', ('locations', '0')),
    ('/ ', (' ',)),
    ('/n\u00e4me', ('n\u00e4me',)),
    # gabbi's pytest plugin takes any test id with a colon for one of its
    # own, so this case gets an id of its own.
    pytest.param('/a.b:c', ('a.b:c',), id='dotted-colon-name'),
])
def test_pointer_decoding(pointer, expected):
    assert jp.decode_pointer(pointer) == expected


@pytest.mark.parametrize('pointer', [
    '/~', '/a~', '/~2', '/a~b', '/~~', '/~~0', '/~~1', '/~~01', '/a~~1',
    '/ok/~x', '/~/', '/~0~', '/~1~2',
])
def test_pointer_bad_escape(pointer):
    with pytest.raises(exception.BadRequest) as info:
        jp.decode_pointer(pointer)
    assert 'escape' in info.value.message or '/' in info.value.message


@pytest.mark.parametrize('pointer', ['/~', '/~2', '/~~01'])
def test_pointer_bad_escape_message(pointer):
    with pytest.raises(exception.BadRequest) as info:
        jp.decode_pointer(pointer)
    assert 'escape' in info.value.message


@pytest.mark.parametrize('pointer', ['', 'name', 'a/b', ' /name', '~1name'])
def test_pointer_must_start_with_slash(pointer):
    with pytest.raises(exception.BadRequest) as info:
        jp.decode_pointer(pointer)
    assert 'start' in info.value.message


@pytest.mark.parametrize('pointer', ['/', '//', '/name/', '//name',
                                     '/a//b', '/locations/0/'])
def test_pointer_empty_segment(pointer):
    with pytest.raises(exception.BadRequest) as info:
        jp.decode_pointer(pointer)
    assert 'adjacent or trailing' in info.value.message


@pytest.mark.parametrize('pointer', [None, 1, b'/name', ['/name']])
def test_pointer_not_a_string(pointer):
    with pytest.raises(exception.BadRequest):
        jp.decode_pointer(pointer)


@pytest.mark.parametrize('media_type', [V20, V21])
def test_bad_pointer_inside_a_document(media_type):
    item = ({'op': 'add', 'path': '/a~2', 'value': 'x'} if media_type == V21
            else {'add': '/a~2', 'value': 'x'})
    bad([item], media_type)
