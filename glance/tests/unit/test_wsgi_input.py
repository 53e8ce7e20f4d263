"""What JSON bodies and query strings the service refuses before any
handler sees them: lone surrogates, integers beyond 64 bits, query
strings that are not UTF-8 (each once a 500)."""

import pytest

from glance.common import exception
from glance.common import wsgi


@pytest.mark.parametrize('raw', [
    b'{"name": "\\udcff"}',
    b'{"name": "ok", "x": ["a", {"b": "\\ud800"}]}',
    b'{"\\udfff": 1}',
    b'{"min_disk": 9223372036854775808}',
    b'[{"op": "replace", "path": "/min_ram", "value": 18446744073709551616}]',
    b'{"n": -9223372036854775809}',
])
def test_refused_bodies(raw):
    with pytest.raises(exception.BadRequest):
        wsgi.parse_json(raw)


@pytest.mark.parametrize('raw,expected', [
    (b'{"name": "\\ud83d\\ude00"}', {'name': '\U0001F600'}),
    (b'{"n": 9223372036854775807}', {'n': 2 ** 63 - 1}),
    (b'{"n": -9223372036854775808}', {'n': -2 ** 63}),
    (b'{"flag": true}', {'flag': True}),
    ('{"name": "\u2713 caf\u00e9"}'.encode('utf-8'),
     {'name': '\u2713 caf\u00e9'}),
    (b'{"name": "\\u00e9"}', {'name': '\u00e9'}),
])
def test_accepted_bodies(raw, expected):
    assert wsgi.parse_json(raw) == expected


@pytest.mark.parametrize('query', [
    'name=%ff%fe', '%ff=1', 'a=1&b=%c3', 'name=\xff',
])
def test_query_string_not_utf8(query):
    with pytest.raises(exception.BadRequest):
        wsgi.check_query_string({'QUERY_STRING': query})


@pytest.mark.parametrize('query', [
    '', 'name=%E2%9C%93', 'name=\xe2\x9c\x93', 'a=b+c&d=%20',
])
def test_query_string_utf8(query):
    wsgi.check_query_string({'QUERY_STRING': query})
