"""Fetching a web-download URI, safely.

Every hop (the URI, then each redirect target) passes url_filter.check(),
which resolves the host; the connection goes to an address that passed,
with the original host name in the Host header and, for https, in SNI
and certificate verification. Connect and read timeouts come from
[import_filtering_opts]; content is taken as sent (no decompression by
the HTTP layer).
"""

import http.client
import ipaddress
import ssl
import urllib.parse

from oslo_config import cfg
from oslo_log import log as logging
import urllib3

from glance.common import exception
from glance.common import streams
from glance.common import url_filter

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

REDIRECTS = (301, 302, 303, 307, 308)
GATHER_SECONDS = 0.5
# http.client's readinto() returns only when the view is full (or the
# body ends): reading in pieces this large keeps a slow source's
# progress visible at little cost to a fast one.
READ_PIECE = 128 * 1024
USER_AGENT = 'glance-web-download'


class FetchError(exception.GlanceError):
    """The source could not be read; the message says why."""
    code = 400
    title = 'Bad Request'


class Response:
    """An open response: iterate over it for the body in chunks."""

    def __init__(self, raw, uri, chunk_size):
        self.raw = raw
        self.uri = uri
        self.chunk_size = chunk_size
        length = raw.headers.get('Content-Length')
        try:
            self.length = int(length) if length is not None else None
        except ValueError:
            self.length = None

    def _readinto(self):
        # Straight from http.client's response, which reads the socket
        # into the view; urllib3's own readinto() reads into a new bytes
        # object and copies that into the view.
        fp = getattr(self.raw, '_fp', None)
        if fp is not None and hasattr(fp, 'readinto'):
            return fp.readinto
        return self.raw.readinto

    def __iter__(self):
        """The body in chunks: views of reused buffers (see
        streams.ring_chunks), each valid until a few more were taken."""
        received = 0
        chunks = streams.ring_chunks(self._readinto(), self.chunk_size,
                                     GATHER_SECONDS, READ_PIECE)
        try:
            while True:
                try:
                    chunk = next(chunks, None)
                except (urllib3.exceptions.HTTPError,
                        http.client.HTTPException, OSError) as e:
                    raise FetchError('Reading %s failed after %d bytes: %s'
                                     % (self.uri, received, _reason(e)))
                if chunk is None:
                    break
                received += len(chunk)
                yield chunk
        finally:
            self.close()
        if self.length is not None and received != self.length:
            raise FetchError('%s ended after %d of %d bytes.'
                             % (self.uri, received, self.length))

    def close(self):
        try:
            self.raw.release_conn()
        except Exception:
            pass


def _reason(error):
    reason = getattr(error, 'reason', None)
    return str(reason or error)


def _pool(target, address, timeout):
    host = str(address)
    if isinstance(address, ipaddress.IPv6Address):
        host = '[%s]' % host
    if target.scheme == 'https':
        context = ssl.create_default_context()
        return urllib3.HTTPSConnectionPool(
            host, target.port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=target.host, assert_hostname=target.host,
            ssl_context=context)
    return urllib3.HTTPConnectionPool(host, target.port, timeout=timeout,
                                      retries=False, maxsize=1)


def _host_header(target):
    host = target.host
    if ':' in host:
        host = '[%s]' % host
    if target.port != url_filter.DEFAULT_PORTS[target.scheme]:
        host = '%s:%d' % (host, target.port)
    return host


def _request(target, uri, timeout):
    last_error = None
    for address in target.addresses:
        pool = _pool(target, address, timeout)
        try:
            return pool.urlopen(
                'GET', target.path,
                headers={'Host': _host_header(target),
                         'User-Agent': USER_AGENT,
                         'Accept-Encoding': 'identity'},
                redirect=False, preload_content=False,
                decode_content=False, assert_same_host=False)
        except urllib3.exceptions.HTTPError as e:
            last_error = e
            LOG.info('Cannot fetch %s from %s: %s', uri, address, e)
    raise FetchError('Cannot fetch %s: %s' % (uri, _reason(last_error)))


def open_uri(uri, chunk_size=None):
    """A Response for the data at uri, after the filtering of each hop."""
    opts = CONF.import_filtering_opts
    timeout = urllib3.Timeout(connect=opts.connect_timeout,
                              read=opts.read_timeout)
    chunk_size = chunk_size or CONF.data_chunk_size
    current = uri
    for _hop in range(opts.max_redirects + 1):
        target = url_filter.check(current)
        raw = _request(target, current, timeout)
        if raw.status in REDIRECTS:
            location = raw.headers.get('Location')
            raw.release_conn()
            if not location:
                raise FetchError('%s redirects nowhere.' % current)
            current = urllib.parse.urljoin(current, location)
            LOG.debug('web-download: %s redirects to %s', uri, current)
            continue
        if raw.status != 200:
            raw.release_conn()
            raise FetchError('The server of %s answered %d %s.'
                             % (current, raw.status, raw.reason or ''))
        return Response(raw, current, chunk_size)
    raise FetchError('Too many redirects (more than %d) from %s.'
                     % (opts.max_redirects, uri))
