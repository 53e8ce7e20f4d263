"""Handlers of /v2/images/{image_id}/file: upload and download."""

import os

from oslo_config import cfg
from oslo_log import log as logging
import webob

from glance.api.v2 import images
from glance.common import exception
from glance.common import streams
from glance.common import wsgi
from glance.image_cache import fill as image_cache_fill
from glance.store import backends
from glance.store import upload as store_upload

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

OCTET_STREAM = 'application/octet-stream'
# Where the cache middleware leaves this node's cache for the handlers.
CACHE_ENVIRON = 'glance.image_cache'


def upload(request, image_id):
    try:
        if request.content_type not in (OCTET_STREAM, ''):
            raise exception.UnsupportedMediaType(
                'Image data must be sent as %s.' % OCTET_STREAM)
        store_id = backends.check_store_id(
            request.headers.get('X-Image-Meta-Store'))
        repo = images.image_repo(request)
        image = images.load(request, image_id, 'upload_image')
        store_upload.upload(repo, image, request, store_id)
    except Exception:
        # Keep the connection usable for the client's next request.
        streams.discard_rest(request)
        raise
    return wsgi.no_content()


def _ordered_locations(image):
    locations = list(image.active_locations)
    locations.sort(key=lambda loc: -backends.weight(
        loc['metadata'].get('store')))
    return locations


def _requested_range(request, size):
    if request.headers.get('Range'):
        return streams.parse_range(request.headers['Range'], size)
    if request.headers.get('Content-Range'):
        return streams.parse_content_range(request.headers['Content-Range'],
                                           size)
    return None


class _BoundedFile:
    """Iterate over length bytes of an open file, then close it."""

    def __init__(self, f, length, chunk_size):
        self.f, self.remaining, self.chunk_size = f, length, chunk_size

    def __iter__(self):
        return self

    def __next__(self):
        if self.remaining <= 0:
            raise StopIteration
        data = self.f.read(min(self.chunk_size, self.remaining))
        if not data:
            raise StopIteration
        self.remaining -= len(data)
        return data

    def close(self):
        self.f.close()


def _file_body(request, path, start, length):
    """An app_iter for a local file, sent with sendfile when possible."""
    f = open(path, 'rb')
    f.seek(start)
    file_wrapper = request.environ.get('wsgi.file_wrapper')
    whole = start == 0 and length == os.fstat(f.fileno()).st_size
    # gunicorn sends exactly Content-Length bytes from the current offset;
    # other servers' wrappers may send to the end, so only whole files.
    server = request.environ.get('SERVER_SOFTWARE', '')
    if file_wrapper is not None and (whole or server.startswith('gunicorn')):
        return file_wrapper(f, CONF.data_chunk_size)
    return _BoundedFile(f, length, CONF.data_chunk_size)


def _open(request, location, start, length, fill=None):
    path = backends.file_path(location['url'])
    if path is not None:
        body = _file_body(request, path, start, length)
        if fill is not None:
            # The data is local already: the client gets it by sendfile
            # as usual, the cache by a kernel copy beside it.
            fill.copy_in_background(path)
        return body
    # Not every store reads at an offset (http does not): read from the
    # start and cut the range out here.
    data, _size = backends.read(location['url'],
                                location['metadata'].get('store'))
    if fill is not None:
        return image_cache_fill.Tee(data, fill)
    return _slice(data, start, length)


def _slice(chunks, start, length):
    position = 0
    for chunk in chunks:
        end = position + len(chunk)
        if end > start:
            piece = chunk[max(start - position, 0):]
            if len(piece) >= length:
                yield piece[:length]
                return
            length -= len(piece)
            yield piece
            start = end
        position = end


def _from_cache(request, image, start, length, byte_range):
    """(body, None) when the node's cache holds the image; otherwise
    (None, a Fill for the store download to feed, or None).

    Only an active image is served from or put into the cache (the
    record was just read from the database, so a deleted or deactivated
    image never is), and only a whole download fills it.
    """
    cache = request.environ.get(CACHE_ENVIRON)
    if cache is None or image.status != 'active':
        return None, None
    path = cache.lookup(image)
    if path is not None:
        try:
            return _file_body(request, path, start, length), None
        except FileNotFoundError:
            # Pruned or evicted since the look-up: a miss after all.
            pass
    cache.miss(image)
    if byte_range or not image.size:
        return None, None
    return None, cache.begin_fill(image)


def download(request, image_id):
    wsgi.refuse_body(request)
    context = images.context_of(request)
    image = images.load(request, image_id, 'download_image')
    if image.status == 'deactivated' and not context.is_admin:
        raise exception.Forbidden('The requested image has been '
                                  'deactivated. Image data download is '
                                  'forbidden.')
    locations = _ordered_locations(image)
    if not locations or image.status not in ('active', 'deactivated'):
        return wsgi.no_content()
    size = image.size or 0
    byte_range = _requested_range(request, size)
    start, end = byte_range if byte_range else (0, size - 1)
    length = end - start + 1 if size else 0
    body, fill = _from_cache(request, image, start, length, byte_range)
    for location in locations if body is None else ():
        try:
            body = _open(request, location, start, length, fill)
            break
        except Exception as e:
            LOG.warning('Cannot read image %s from %s: %s', image.id,
                        location['url'], e)
    if body is None:
        if fill is not None:
            fill.abort('no store could be read')
        raise exception.ServiceUnavailable('The image data cannot be read '
                                           'from any of its stores.')
    # image.send, once the server has sent what it could.
    body = images.image_repo(request).counted_download(image, body, length)
    response = webob.Response(app_iter=body, content_type=OCTET_STREAM,
                              charset=None, conditional_response=False)
    response.content_length = length
    if image.checksum:
        response.headers['Content-MD5'] = image.checksum
    if byte_range:
        response.status = 206
        response.headers['Content-Range'] = 'bytes %d-%d/%d' % (start, end,
                                                                size)
    return response


_FILE = '/v2/images/{image_id}/file'

ROUTES = [
    (_FILE, 'PUT', upload),
    (_FILE, 'GET', download),
]
