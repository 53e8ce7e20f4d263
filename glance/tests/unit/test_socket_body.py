"""The body framing read straight from the socket (socket_body)."""

import socket
import threading
import types

from gunicorn.http import body as gunicorn_body
from gunicorn.http import unreader as unreader_lib
import pytest

from glance.common import socket_body


def read_all(body, size=1024 * 1024):
    view = memoryview(bytearray(size))
    out = bytearray()
    while True:
        n = body.readinto(view)
        if not n:
            return bytes(out)
        out += view[:n]


def body_over(wire, buffered=b'', length=None, piece=None):
    """A SocketBody whose peer sends wire (in pieces of piece bytes) and
    closes; the surplus given back at the end lands in ends."""
    ours, theirs = socket.socketpair()
    ours.settimeout(10)

    def send():
        step = piece or max(len(wire), 1)
        try:
            for start in range(0, len(wire), step):
                theirs.sendall(wire[start:start + step])
        except OSError:
            pass  # the reader gave up on a broken body and went away
        theirs.close()

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    ends = []
    body = socket_body.SocketBody(ours, buffered, length, ends.append)
    return body, ends


def rest_of(body):
    out = b''
    while True:
        data = body._sock.recv(65536)
        if not data:
            return out
        out += data


def chunked(data, size=7, extension=b''):
    out = b''
    for start in range(0, len(data), size):
        part = data[start:start + size]
        out += b'%x%s\r\n%s\r\n' % (len(part), extension, part)
    return out


DATA = bytes(range(256)) * 41


@pytest.mark.parametrize('piece', [None, 1, 3, 4096])
def test_chunked_body_across_any_packet_boundaries(piece):
    wire = chunked(DATA) + b'0\r\n\r\nGET /next'
    body, ends = body_over(wire, piece=piece)
    assert read_all(body, 100) == DATA
    # What was read past the body goes back to gunicorn, and the rest of
    # the next request is still in the socket.
    assert ends[0] + rest_of(body) == b'GET /next'
    assert body.readinto(memoryview(bytearray(10))) == 0


def test_bytes_buffered_with_the_headers_come_first():
    wire = chunked(DATA)
    body, ends = body_over(wire[100:] + b'0\r\n\r\n', buffered=wire[:100])
    assert read_all(body) == DATA
    assert ends == [b'']


def test_chunk_extensions_and_trailers_are_accepted():
    wire = (chunked(DATA, 1000, b' ; name="quoted value";flag') +
            b'0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\nrest')
    body, ends = body_over(wire, piece=5)
    assert read_all(body) == DATA
    assert ends[0] + rest_of(body) == b'rest'


@pytest.mark.parametrize('length', [0, 1, len(DATA)])
def test_content_length_body_stops_at_its_length(length):
    body, ends = body_over(DATA[:length] + b'PIPELINED', length=length)
    assert read_all(body, 333) == DATA[:length]
    # recv never asks beyond the body; nothing was read past it.
    assert ends == [b'']
    assert rest_of(body) == b'PIPELINED'


@pytest.mark.parametrize('wire', [
    b'zz\r\nabc\r\n',                    # not hex
    b'-1\r\n\r\n',                       # negative
    b'\r\n',                             # empty size
    b'5\r\nabcdefgh\r\n',                # data longer than its size
    b'3\r\nabc\r\n0\r\nBad\nTrailer\r\n\r\n',  # bare LF in a trailer
    b'3;bad ext!\r\nabc\r\n0\r\n\r\n',   # not a token
    b'3;a=\r\r\nabc\r\n0\r\n\r\n',       # bare CR in an extension
    b'1' * 9000,                         # a size line that never ends
    b'3\r\nab',                          # the client goes away
    b'',                                 # ... before anything
])
def test_broken_framing_is_refused_and_stays_refused(wire):
    body, ends = body_over(wire, piece=512)
    with pytest.raises(socket_body.BodyError):
        read_all(body)
    # The reader never resumes from an unknown position, and gunicorn is
    # not handed the connection back.
    with pytest.raises(socket_body.BodyError):
        body.readinto(memoryview(bytearray(10)))
    assert ends == []


@pytest.mark.parametrize('size_line', [b'FFFFFFFFFFFFFFFFFFFF',
                                       b'%x' % (2 ** 40 + 1)])
def test_chunk_beyond_the_size_cap_is_refused_at_its_size_line(size_line):
    # Refused when the size line is read, before any of its data: the
    # error names the cap, not a connection the client closed.
    body, ends = body_over(size_line + b'\r\nabc', piece=512)
    with pytest.raises(socket_body.BodyError) as info:
        body.readinto(memoryview(bytearray(10)))
    assert 'image_size_cap' in str(info.value)
    assert ends == []


def test_chunk_at_the_size_cap_is_read(conf):
    conf.config(image_size_cap=3)
    body, ends = body_over(b'3\r\nabc\r\n0\r\n\r\n', piece=512)
    assert read_all(body) == b'abc'
    conf.config(image_size_cap=2)
    body, ends = body_over(b'3\r\nabc\r\n0\r\n\r\n', piece=512)
    with pytest.raises(socket_body.BodyError):
        read_all(body)


def test_short_content_length_body_is_refused():
    body, ends = body_over(b'abc', length=10)
    with pytest.raises(socket_body.BodyError):
        read_all(body)
    assert ends == []


def test_only_a_fresh_gunicorn_body_is_taken_over():
    assert socket_body.open_body({'wsgi.input': object()}) is None
    environ = {'wsgi.input': object(), 'gunicorn.socket': object()}
    assert socket_body.open_body(environ) is None
    # The answer is kept: the drain after a refusal asks again.
    assert environ[socket_body.ENVIRON_KEY] is None


def gunicorn_environ(wire, chunked_body, length=None, started=False):
    """The environ gunicorn gives an application: a Body over a socket
    whose peer sends wire, part of which gunicorn read with the headers."""
    ours, theirs = socket.socketpair()
    theirs.sendall(wire)
    theirs.close()
    unreader = unreader_lib.SocketUnreader(ours)
    # What gunicorn read along with the headers.
    unreader.unread(ours.recv(10))
    if chunked_body:
        reader = gunicorn_body.ChunkedReader(
            types.SimpleNamespace(unreader=unreader), unreader)
    else:
        reader = gunicorn_body.LengthReader(unreader, length)
    stream = gunicorn_body.Body(reader)
    if started:
        stream.read(1)
    return {'wsgi.input': stream, 'gunicorn.socket': ours}, unreader


@pytest.mark.parametrize('chunked_body', [False, True])
def test_a_fresh_gunicorn_body_is_read_from_the_socket(chunked_body, conf):
    wire = (chunked(DATA) + b'0\r\n\r\n') if chunked_body else DATA
    environ, unreader = gunicorn_environ(wire + b'NEXT', chunked_body,
                                         len(DATA))
    body = socket_body.open_body(environ)
    assert isinstance(body, socket_body.SocketBody)
    stream = environ['wsgi.input']
    # Until the body ends cleanly the connection would be closed, and
    # gunicorn's own reader is spent.
    assert stream.failed is True
    assert stream.read(10) == b''
    assert read_all(body, 4096) == DATA
    assert stream.failed is False
    # gunicorn finds the next request where the body ended.
    assert unreader.read() == b'NEXT'


def test_a_body_already_begun_is_left_to_gunicorn(conf):
    environ, _ = gunicorn_environ(DATA, False, len(DATA), started=True)
    assert socket_body.open_body(environ) is None
    assert environ['wsgi.input'].read() == DATA[1:]
