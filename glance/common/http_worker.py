"""gunicorn's gthread worker, made to withstand slow and stalled clients.

gunicorn's gthread worker hands a connection to its thread pool as soon
as it has any byte to read; the thread then blocks until the whole
request head has arrived, and an image upload keeps its thread until the
last byte of the body. A few hundred clients that send half a request
line, or an upload's first bytes and then nothing, therefore hold every
thread, and requests from everybody else wait.

This worker changes three things:

* The request head (request line and header fields) is read by the main
  loop, without blocking, into a buffer of the connection; only a
  complete head goes to a thread, with the bytes read handed to
  gunicorn's parser. A head that is not complete within
  ``client_header_timeout`` seconds of its first byte (or of the
  connection) is dropped.
* Image data requests (PUT or GET of ``/v2/images/{id}/file``, PUT of
  ``/v2/images/{id}/stage``) run on a pool of their own,
  ``data_threads`` per worker, so however many of them stall the other
  requests keep the ``threads`` pool. When every data thread is busy a
  new data request is answered ``503`` with ``Retry-After`` by the main
  loop itself.
* (in glance.common.socket_body) a data request that receives nothing
  for ``data_inactivity_timeout`` seconds is given up.
"""

from concurrent import futures
import errno
import re
import selectors
import socket
import time
from functools import partial

from gunicorn import http
from gunicorn.workers import gthread
from oslo_config import cfg

CONF = cfg.CONF

HEAD_END = b'\r\n\r\n'
RECV_SIZE = 8192
# Past this much buffered without the end of the head the request goes
# to a thread anyway: gunicorn's parser then refuses it (its limits on
# the request line and header fields are smaller) or reads the rest.
MAX_BUFFERED_HEAD = 64 * 1024
DATA_PATH = re.compile(rb'/images/[^/]+/(file|stage)/?$')
DATA_METHODS = (b'PUT', b'GET', b'HEAD')
# A refused data request: how long the main loop keeps reading and
# dropping the body the client may still be sending, so that it sees
# the 503 rather than a reset connection.
REFUSE_LINGER = 2.0
# Seconds a refused client is asked to wait before it tries again.
RETRY_AFTER = 5
REFUSE_DRAIN_LIMIT = 4 * 1024 * 1024
BUSY_RESPONSE = (b'HTTP/1.1 503 Service Unavailable\r\n'
                 b'Content-Type: application/json\r\n'
                 b'Retry-After: %d\r\n'
                 b'Connection: close\r\n'
                 b'Content-Length: %d\r\n'
                 b'\r\n%s')
BUSY_BODY = (b'{"message": "The server is busy with other image data '
             b'requests; retry later.", "code": "503 Service Unavailable", '
             b'"title": "Service Unavailable"}')


def head_complete(data):
    """Whether a thread may parse the request head buffered so far.

    A head ends with an empty line; one ended by bare LFs is passed on
    too, for gunicorn's parser to refuse or accept as it does.
    """
    return (HEAD_END in data or b'\n\n' in data or
            len(data) >= MAX_BUFFERED_HEAD)


def is_data_request(head):
    """Whether a request head is that of an image data request."""
    line = head.split(b'\r\n', 1)[0]
    parts = line.split(b' ')
    if len(parts) != 3 or parts[0] not in DATA_METHODS:
        return False
    path = parts[1].split(b'?', 1)[0].split(b'#', 1)[0]
    return DATA_PATH.search(path) is not None


def busy_response(retry_after):
    return BUSY_RESPONSE % (retry_after, len(BUSY_BODY), BUSY_BODY)


class HeadBuffer:
    """The bytes of a request head read so far, and its deadline."""

    def __init__(self, deadline):
        self.data = bytearray()
        self.deadline = deadline


class Worker(gthread.ThreadWorker):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.data_pool = None
        self.data_in_flight = 0
        # Connections whose head is still arriving: conn -> HeadBuffer.
        self.reading_heads = {}
        # Refused connections being drained: sock -> deadline.
        self.refused = {}

    def _data_pool(self):
        # Made on first use: under a plain gunicorn command line the
        # application, which parses the configuration, is loaded after
        # init_process begins.
        if self.data_pool is None:
            self.data_pool = futures.ThreadPoolExecutor(
                max_workers=CONF.data_threads)
        return self.data_pool

    def _shutdown_data_pool(self):
        if self.data_pool is not None:
            self.data_pool.shutdown(wait=False)

    def handle_quit(self, sig, frame):
        self._shutdown_data_pool()
        super().handle_quit(sig, frame)

    def run(self):
        try:
            super().run()
        finally:
            # As gunicorn does with its own pool after the grace period.
            self._shutdown_data_pool()

    # -- reading heads in the main loop --------------------------------

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED,
                               errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = gthread.TConn(self.cfg, client_sock, client_addr,
                             listener.getsockname())
        if self.cfg.is_ssl:
            # The head is encrypted: gunicorn's own path.
            client_sock.setblocking(True)
            self.enqueue_req(conn)
            return
        self._wait_for_head(conn, time.monotonic() +
                            CONF.client_header_timeout)

    def _wait_for_head(self, conn, deadline):
        conn.sock.setblocking(False)
        self.reading_heads[conn] = HeadBuffer(deadline)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             partial(self._on_head_readable, conn))

    def on_client_socket_readable(self, conn, client):
        # A kept-alive connection starts its next request.
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        if self.cfg.is_ssl:
            self.enqueue_req(conn)
            return
        self._wait_for_head(conn, time.monotonic() +
                            CONF.client_header_timeout)
        self._on_head_readable(conn, client)

    def _drop(self, conn):
        self.reading_heads.pop(conn, None)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass
        self.nr_conns -= 1
        conn.close()

    def _on_head_readable(self, conn, client):
        head = self.reading_heads.get(conn)
        if head is None:
            return
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(conn)
            return
        if not data:
            self._drop(conn)
            return
        head.data += data
        if not head_complete(head.data):
            return
        del self.reading_heads[conn]
        self.poller.unregister(conn.sock)
        self._dispatch(conn, bytes(head.data))

    def _dispatch(self, conn, buffered):
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(buffered)
        conn.data_ready = True
        conn.sock.setblocking(True)
        if not is_data_request(buffered):
            self.enqueue_req(conn)
        elif self.data_in_flight >= CONF.data_threads:
            self._refuse(conn)
        else:
            self.data_in_flight += 1
            fs = self._data_pool().submit(self.handle, conn)
            fs.add_done_callback(lambda fut: self.method_queue.defer(
                self._finish_data_request, conn, fut))

    def _finish_data_request(self, conn, fs):
        self.data_in_flight -= 1
        self.finish_request(conn, fs)

    # -- refusing data requests beyond the data pool -------------------

    def _refuse(self, conn):
        sock = conn.sock
        sock.setblocking(False)
        try:
            sock.send(busy_response(RETRY_AFTER))
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.nr_conns -= 1
            conn.close()
            return
        self.refused[sock] = [time.monotonic() + REFUSE_LINGER, 0, conn]
        self.poller.register(sock, selectors.EVENT_READ, self._drain_refused)

    def _drain_refused(self, sock):
        state = self.refused.get(sock)
        if state is None:
            return
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b''
        state[1] += len(data)
        if not data or state[1] > REFUSE_DRAIN_LIMIT:
            self._close_refused(sock)

    def _close_refused(self, sock):
        state = self.refused.pop(sock)
        try:
            self.poller.unregister(sock)
        except (KeyError, ValueError, OSError):
            pass
        self.nr_conns -= 1
        state[2].close()

    # -- timeouts --------------------------------------------------------

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c, head in self.reading_heads.items()
                     if head.deadline <= now]:
            self._drop(conn)
        for sock in [s for s, state in self.refused.items()
                     if state[0] <= now]:
            self._close_refused(sock)
