"""Reading an image body straight from gunicorn's socket.

gunicorn's wsgi.input copies every byte several times on its way to the
application (into and out of a BytesIO in each of its two layers, with a
fresh allocation each time), which costs more CPU than writing the data
to disk. For image data the body is read here instead, with recv_into()
into buffers the caller reuses, so each byte is copied once, by the
kernel. Only the body's framing is parsed here (Content-Length, or
chunked as strictly as gunicorn parses it); gunicorn still parses the
request line and headers and is told at the end where the next request on
the connection starts.

Anything else (another WSGI server, HTTP/2, a body somebody already began
to read) gives None from open_body(), and the caller reads wsgi.input.
"""

import inspect

from gunicorn.http import body as gunicorn_body
from oslo_config import cfg

CONF = cfg.CONF

# The environ key under which the reader of a request is kept, so that
# the upload and the drain after a refusal read the same stream.
ENVIRON_KEY = 'glance.socket_body'
FRAMING_READ = 8192
# As gunicorn bounds them: a chunk-size line, and the trailer section.
MAX_SIZE_LINE = 8190
MAX_TRAILERS = 8190 * 32


class BodyError(Exception):
    """The body ended early or its chunked framing is broken."""


class SocketBody:
    """readinto() over the body of one request, from the socket itself.

    From the moment it exists gunicorn's own reader is spent and the
    connection is marked failed, so whatever goes wrong the connection is
    closed after the response; only reaching the end of the body cleanly
    hands the connection back to gunicorn for its next request.
    """

    def __init__(self, sock, buffered, length, on_end):
        self._sock = sock
        self._blocking_timeout = sock.gettimeout()
        self._pending = bytearray(buffered)
        self._chunked = length is None
        # Bytes left of the current chunk, or of the whole body.
        self._left = 0 if self._chunked else length
        self._on_end = on_end
        self._first_chunk = True
        self.done = False
        self._broken = None

    def readinto(self, view):
        """Fill the start of view with body bytes; 0 at the end."""
        if self.done:
            return 0
        if self._broken is not None:
            # Where the body stands after an error is unknown.
            raise BodyError('the body could not be read: %s' % self._broken)
        try:
            return self._readinto(view)
        except Exception as e:
            self._broken = type(e).__name__
            raise

    def _readinto(self, view):
        if self._left == 0:
            if not self._chunked or not self._next_chunk():
                self._finish()
                return 0
        want = min(len(view), self._left)
        if self._pending:
            n = min(want, len(self._pending))
            view[:n] = self._pending[:n]
            del self._pending[:n]
        else:
            n = self._sock.recv_into(view[:want])
            if not n:
                raise BodyError('the client closed the connection')
        self._left -= n
        return n

    def set_timeout(self, seconds):
        """How long one read may wait for the client (None: forever)."""
        if not self.done:
            self._sock.settimeout(seconds)

    def _finish(self):
        self.done = True
        self._sock.settimeout(self._blocking_timeout)
        surplus, self._pending = bytes(self._pending), bytearray()
        self._on_end(surplus)

    def _receive(self):
        data = self._sock.recv(FRAMING_READ)
        if not data:
            raise BodyError('the client closed the connection')
        self._pending += data

    def _line(self, limit):
        searched = 0
        while True:
            end = self._pending.find(b'\r\n', searched)
            if end >= 0:
                line = bytes(self._pending[:end])
                del self._pending[:end + 2]
                return line
            if len(self._pending) > limit:
                raise BodyError('chunk-size line too long')
            searched = max(len(self._pending) - 1, 0)
            self._receive()

    def _next_chunk(self):
        """Read the framing up to the next chunk's data; False at the end."""
        if not self._first_chunk:
            while len(self._pending) < 2:
                self._receive()
            if self._pending[:2] != b'\r\n':
                raise BodyError('chunk data not followed by CRLF')
            del self._pending[:2]
        self._first_chunk = False
        line = self._line(MAX_SIZE_LINE)
        size, semicolon, extension = line.partition(b';')
        if semicolon:
            if b'\r' in extension:
                raise BodyError('bare CR in a chunk extension')
            size = size.rstrip(b' \t')
            if not gunicorn_body.CHUNK_EXT_RE.fullmatch(b';' + extension):
                raise BodyError('invalid chunk extension')
        if not size or size.strip(b'0123456789abcdefABCDEF'):
            raise BodyError('invalid chunk size %r' % size[:32])
        if len(size.lstrip(b'0')) > 16 or \
                int(size, 16) > CONF.image_size_cap:
            # No image may be that large: refuse now rather than wait for
            # data that would be refused anyway.
            raise BodyError('chunk size %r exceeds image_size_cap'
                            % size[:32])
        self._left = int(size, 16)
        if self._left:
            return True
        self._skip_trailers()
        return False

    def _skip_trailers(self):
        # The trailer section ends with an empty line; its fields are not
        # used by the image API.
        while True:
            if self._pending[:2] == b'\r\n':
                del self._pending[:2]
                return
            end = self._pending.find(b'\r\n\r\n')
            if end >= 0:
                section = self._pending[:end + 2]
                if section.count(b'\n') != section.count(b'\r\n'):
                    raise BodyError('bare LF in the trailer section')
                del self._pending[:end + 4]
                return
            if len(self._pending) > MAX_TRAILERS:
                raise BodyError('trailer section too long')
            self._receive()


def open_body(environ):
    """The SocketBody of this request, or None to read wsgi.input."""
    if ENVIRON_KEY in environ:
        return environ[ENVIRON_KEY]
    body = _take_over(environ)
    environ[ENVIRON_KEY] = body
    return body


def _gunicorn_state(environ):
    """(socket, body, reader, unreader, length or None for chunked) of a
    body nobody has read yet, or None.

    Only reads: gunicorn's classes are used as they are in the versions
    requirements.txt admits, and anything unexpected means "not ours".
    """
    stream = environ.get('wsgi.input')
    sock = environ.get('gunicorn.socket')
    if sock is None or type(stream) is not gunicorn_body.Body:
        return None
    try:
        if stream.buf.getbuffer().nbytes or not hasattr(stream, 'failed'):
            return None
        reader = stream.reader
        if type(reader) is gunicorn_body.LengthReader:
            unreader, length = reader.unreader, reader.length
        elif (type(reader) is gunicorn_body.ChunkedReader and
                not reader.buf.getbuffer().nbytes and
                reader.parser is not None and
                inspect.getgeneratorstate(reader.parser) ==
                inspect.GEN_CREATED):
            unreader, length = reader.req.unreader, None
        else:
            return None
        if not (hasattr(unreader.buf, 'getvalue') and
                callable(getattr(unreader, 'unread', None))):
            return None
    except AttributeError:
        return None
    return sock, stream, reader, unreader, length


def _take_over(environ):
    state = _gunicorn_state(environ)
    if state is None:
        return None
    sock, stream, reader, unreader, length = state

    # gunicorn's reader is spent from here on: a stray read of
    # wsgi.input finds nothing, and unless the body ends cleanly the
    # connection is closed rather than parsed from an unknown position.
    if length is None:
        reader.parser = None
    else:
        reader.length = 0
    stream.failed = True
    buffered = unreader.buf.getvalue()
    unreader.buf = type(unreader.buf)()

    def on_end(surplus):
        if surplus:
            unreader.unread(surplus)
        stream.failed = False

    body = SocketBody(sock, buffered, length, on_end)
    # gunicorn's socket blocks for ever: a client that stops sending
    # mid-body must not hold a thread (and its image) for good.
    body.set_timeout(CONF.data_inactivity_timeout)
    return body
