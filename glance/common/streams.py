"""Reading image data from a request body in bounded chunks.

The body is never held whole: it is read chunk by chunk, counted against
the declared size and the limits as it arrives, and each chunk is shown to
the format checker and the caller's heartbeat on its way through.
"""

import time

from glance.common import exception

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


def request_chunks(request, chunk_size, limit, limit_message,
                   declared=None, checker=None, heartbeat=None):
    """Yield the request body in chunks of at most chunk_size bytes."""
    stream = request.environ['wsgi.input']
    content_length = request.content_length
    total = 0
    last_beat = time.monotonic()
    while True:
        try:
            chunk = stream.read(chunk_size)
        except Exception as e:
            # The client went away mid-chunk, or sent broken chunking
            # (gunicorn's NoMoreData, InvalidChunkSize, ...), or stalled.
            raise exception.BadRequest('The request body could not be read '
                                       'after %d bytes: %s'
                                       % (total, type(e).__name__))
        if not chunk:
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
    stream = request.environ.get('wsgi.input')
    if stream is None:
        return
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not stream.read(65536):
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
