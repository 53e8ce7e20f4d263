"""The pieces of glance-api's gunicorn worker that decide by bytes."""

import pytest

from glance.common import http_worker

IMAGE = '0a9a4a3c-8a63-4a4c-9f0c-7d0e8c1b2a3d'


@pytest.mark.parametrize('line, expected', [
    ('PUT /v2/images/%s/file HTTP/1.1' % IMAGE, True),
    ('GET /v2/images/%s/file HTTP/1.1' % IMAGE, True),
    ('PUT /v2/images/%s/stage HTTP/1.1' % IMAGE, True),
    ('PUT /v2/images/%s/file?x=1 HTTP/1.1' % IMAGE, True),
    ('PUT http://h:9292/v2/images/%s/stage HTTP/1.1' % IMAGE, True),
    ('GET /v2/images/%s HTTP/1.1' % IMAGE, False),
    ('GET /v2/images HTTP/1.1', False),
    ('PATCH /v2/images/%s HTTP/1.1' % IMAGE, False),
    ('POST /v2/images/%s/import HTTP/1.1' % IMAGE, False),
    ('POST /v2/images/%s/file HTTP/1.1' % IMAGE, False),
    ('GET /v2/images/%s/files HTTP/1.1' % IMAGE, False),
    ('GET /v2/images/%s/file/x HTTP/1.1' % IMAGE, False),
    ('GET /v2/images?name=/images/x/file HTTP/1.1', False),
    ('garbage', False),
    ('', False),
])
def test_is_data_request(line, expected):
    head = (line + '\r\nHost: x\r\n\r\n').encode('latin-1')
    assert http_worker.is_data_request(head) is expected


@pytest.mark.parametrize('data, expected', [
    (b'GET / HTTP/1.1\r\nHost: x\r\n\r\n', True),
    (b'GET / HTTP/1.1\r\nHost: x\r\n\r\nbody', True),
    (b'GET / HTTP/1.1\nHost: x\n\n', True),
    (b'GET / HTTP/1.1\r\nHost: x\r\n', False),
    (b'GET / HTT', False),
    (b'', False),
    (b'X' * http_worker.MAX_BUFFERED_HEAD, True),
])
def test_head_complete(data, expected):
    assert http_worker.head_complete(data) is expected


def test_busy_response_is_a_complete_503():
    response = http_worker.busy_response(5)
    head, _, body = response.partition(b'\r\n\r\n')
    lines = head.split(b'\r\n')
    assert lines[0] == b'HTTP/1.1 503 Service Unavailable'
    assert b'Retry-After: 5' in lines
    assert b'Connection: close' in lines
    assert b'Content-Length: %d' % len(body) in lines
    assert b'"code": "503 Service Unavailable"' in body
