"""Reading image data from a request body in bounded chunks.

The body is never held whole: it is read chunk by chunk, counted against
the declared size and the limits as it arrives, and each chunk is shown to
the format checker and the caller's heartbeat on its way through.

Under gunicorn the chunks are memoryviews of a small ring of buffers that
the socket is read into (see socket_body), so the bytes are neither
copied nor allocated again on their way to the store. A chunk therefore
stays valid only until RING_DEPTH - 1 further chunks have been taken:
whoever keeps chunks longer (a queue of hash threads) must keep fewer
than that in hand, and whoever keeps one for good must copy it.
"""

import mmap
import time

from glance.common import exception
from glance.common import socket_body

HEARTBEAT_SECONDS = 30
# How long a refused upload's remaining body is read and dropped.
DISCARD_SECONDS = 5


def declared_size(request):
    """x-openstack-image-size as an int; None when absent or 0."""
    value = request.headers.get('x-openstack-image-size')
    if value is None:
        return None
    try:
        size = int(value)
    except ValueError:
        raise exception.BadRequest('x-openstack-image-size must be a number '
                                   'of bytes, not %r.' % value)
    if size < 0:
        raise exception.BadRequest('x-openstack-image-size must not be '
                                   'negative.')
    return size or None


# Buffers in the ring of one request body.
RING_DEPTH = 4


def _buffer(size):
    # Anonymous memory, which the kernel zeroes page by page as it is first
    # written: a small body touches only what it fills, where
    # bytearray(size) would zero (and fault in) all of it, every request.
    return memoryview(mmap.mmap(-1, size))


def ring_chunks(readinto, chunk_size, gather_seconds=None,
                piece_size=None):
    """Yield chunks read by readinto(view) -> bytes read (0 at the end)
    into a ring of RING_DEPTH buffers that are reused (and made only as
    the body needs them).

    With gather_seconds, a chunk is yielded once that long has passed
    since it began to fill, full or not, so that a slow source still
    shows progress; piece_size then bounds each readinto() for sources
    whose readinto() waits until the view is full.
    """
    piece_size = piece_size or chunk_size
    ring = []
    turn = 0
    while True:
        if turn == len(ring) < RING_DEPTH:
            ring.append(_buffer(chunk_size))
        view = ring[turn % RING_DEPTH]
        filled = 0
        if gather_seconds is not None:
            deadline = time.monotonic() + gather_seconds
        while filled < chunk_size:
            n = readinto(view[filled:filled + piece_size])
            if not n:
                break
            filled += n
            if gather_seconds is not None and time.monotonic() > deadline:
                break
        if not filled:
            return
        yield view[:filled]
        turn += 1


def _input_chunks(stream, chunk_size):
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk


def expected_size(request, declared, limit, limit_message):
    """The size the body announces (the declared size, else its
    Content-Length), or None; 413 at once when it exceeds limit."""
    expected = declared or request.content_length or None
    if expected is not None and expected > limit:
        raise exception.LimitExceeded(limit_message)
    return expected


def request_chunks(request, chunk_size, limit, limit_message,
                   declared=None, checker=None, heartbeat=None):
    """Yield the request body in chunks of at most chunk_size bytes."""
    body = socket_body.open_body(request.environ)
    source = (ring_chunks(body.readinto, chunk_size) if body is not None else
              _input_chunks(request.environ['wsgi.input'], chunk_size))
    content_length = request.content_length
    total = 0
    last_beat = time.monotonic()
    while True:
        try:
            chunk = next(source, None)
        except Exception as e:
            # The client went away mid-chunk, or sent broken chunking
            # (gunicorn's NoMoreData, InvalidChunkSize, our BodyError,
            # ...), or stalled.
            reason = type(e).__name__
            if isinstance(e, socket_body.BodyError):
                reason = '%s (%s)' % (reason, e)
            raise exception.BadRequest('The request body could not be read '
                                       'after %d bytes: %s'
                                       % (total, reason))
        if chunk is None:
            break
        total += len(chunk)
        if declared is not None and total > declared:
            raise exception.BadRequest('Size exceeds the declared size of %d '
                                       'bytes.' % declared)
        if total > limit:
            raise exception.LimitExceeded(limit_message)
        if checker is not None:
            checker.feed(chunk)
        if heartbeat is not None and \
                time.monotonic() - last_beat > HEARTBEAT_SECONDS:
            heartbeat()
            last_beat = time.monotonic()
        yield chunk
    if content_length is not None and total != content_length:
        raise exception.BadRequest('The request body ended after %d of %d '
                                   'bytes.' % (total, content_length))
    if declared is not None and total != declared:
        raise exception.BadRequest('Size mismatch: declared %d bytes, got '
                                   '%d bytes.' % (declared, total))


def discard_rest(request, seconds=DISCARD_SECONDS):
    """Read and drop what is left of a refused request body.

    gunicorn drains at most 64 KiB of an unread body after the response
    and otherwise closes the connection it has just answered with
    "Connection: keep-alive", so a client reusing it (keystoneauth and
    requests sessions do) fails on its next request. The drain is bounded
    in time: past that the connection is closed as before.
    """
    body = socket_body.open_body(request.environ)
    if body is not None:
        body.set_timeout(seconds)
        scratch = memoryview(bytearray(65536))

        def read():
            return body.readinto(scratch)
    else:
        stream = request.environ.get('wsgi.input')
        if stream is None:
            return

        def read():
            return len(stream.read(65536))
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not read():
                return
    except Exception:
        # A broken body (client gone, bad chunking): nothing to keep.
        return


def _bad_range(header):
    return exception.RangeNotSatisfiable('Invalid range header %r.'
                                         % header)


def parse_range(header, size):
    """(start, end inclusive) of a single byte range, or None for all.

    Raises RangeNotSatisfiable when the range lies outside the data or
    is malformed (as the reference does), and BadRequest for several.
    """
    unit, _sep, spec = header.partition('=')
    if unit.strip().lower() != 'bytes' or not spec.strip():
        raise _bad_range(header)
    if ',' in spec:
        raise exception.BadRequest('Multiple ranges are not supported.')
    first, dash, last = spec.strip().partition('-')
    if not dash:
        raise _bad_range(header)
    try:
        if first == '':
            length = int(last)
            if length <= 0:
                raise exception.RangeNotSatisfiable(headers={
                    'Content-Range': 'bytes */%d' % size})
            start, end = max(size - length, 0), size - 1
        else:
            start = int(first)
            end = int(last) if last else size - 1
    except ValueError:
        raise _bad_range(header)
    if start < 0 or start > end or start >= size:
        raise exception.RangeNotSatisfiable(headers={
            'Content-Range': 'bytes */%d' % size})
    return start, min(end, size - 1)


def parse_content_range(header, size):
    """The legacy Content-Range request header: 'bytes a-b/total'."""
    unit, _sep, spec = header.strip().partition(' ')
    byte_range = spec.partition('/')[0]
    if unit.lower() != 'bytes':
        raise _bad_range(header)
    return parse_range('bytes=' + byte_range, size)
