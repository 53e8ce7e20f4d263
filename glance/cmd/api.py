"""glance-api: serve the API under gunicorn.

gunicorn (gthread workers) rather than uWSGI or wsgiref: it is pure
Python, keeps connections alive, reads chunked request bodies of any chunk
size (python-glanceclient sends 1 MiB chunks), sends file data with
sendfile through wsgi.file_wrapper, and on SIGTERM stops accepting, lets
in-flight requests finish (up to graceful_shutdown_timeout) and exits.
"""

import ipaddress
import socket
import sys

from gunicorn.app import base as gunicorn_base
from oslo_config import cfg
from oslo_log import log as logging

from glance.api import app
from glance.common import config
from glance.db import engine as db_engine
from glance import image_cache
from glance.image_cache import prefetcher
from glance.store import upload

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


def _is_loopback(host):
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(
        ipaddress.ip_address(a.split('%')[0]).is_loopback
        for a in addresses)


def check_bind():
    """The header-trusting flavor must not listen beyond loopback."""
    if CONF.paste_deploy.flavor.split('+')[0] == 'keystone':
        return
    if _is_loopback(CONF.bind_host) or CONF.noauth.allow_non_loopback_bind:
        return
    sys.exit('glance-api: refusing to listen on %s without Keystone: in '
             'this flavor anyone who can connect may act as any project. '
             'Set [paste_deploy] flavor = keystone, or bind to a loopback '
             'address, or set [noauth] allow_non_loopback_bind = true.'
             % CONF.bind_host)


def _bind_address():
    host = CONF.bind_host
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    return '%s:%d' % (host, CONF.bind_port)


class Server(gunicorn_base.BaseApplication):
    def __init__(self, application):
        self.application = application
        super().__init__()

    def load_config(self):
        settings = {
            'bind': [_bind_address()],
            'workers': CONF.workers,
            'threads': CONF.threads,
            'worker_class': 'glance.common.http_worker.Worker',
            'backlog': CONF.backlog,
            'graceful_timeout': CONF.graceful_shutdown_timeout,
            # gthread workers send their heartbeat from the main loop, so
            # this bounds a stuck worker, not a long upload.
            'timeout': CONF.client_socket_timeout,
            'keepalive': 30,
            'limit_request_line': 8190,
            'limit_request_field_size': CONF.max_header_line,
            'accesslog': None,
            'errorlog': '-',
            'proc_name': 'glance-api',
            'control_socket_disable': True,
            'post_fork': _post_fork,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def _post_fork(server, worker):
    # Connections opened before the fork belong to the master.
    db_engine.reset()
    # Threads do not survive the fork: each worker runs its own.
    prefetcher.ensure_started()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    config.parse_args(argv)
    check_bind()
    try:
        application = app.build()
    except RuntimeError as e:
        sys.exit('glance-api: %s' % e)
    upload.recover_orphans()
    cache = image_cache.get()
    if cache is not None:
        cache.recover()
    from glance.async_ import recovery
    recovery.recover_orphans()
    db_engine.reset()
    LOG.info('glance-api listening on %s with %d workers x %d threads',
             _bind_address(), CONF.workers, CONF.threads)
    Server(application).run()


if __name__ == '__main__':
    main()
