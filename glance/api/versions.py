"""The version document and version negotiation.

There are no microversions: every call lives under /v2, and the minor
versions are only advertised. /v2.N/ URLs and the
application/vnd.openstack.images-v2.N Accept header are accepted as /v2.
"""

import json
import re

from oslo_config import cfg

CONF = cfg.CONF

# (minor version, needs multiple stores, needs the image cache)
_MINORS = [(n, False, False) for n in range(0, 8)] + \
          [(n, True, False) for n in range(8, 14)] + \
          [(14, False, True), (15, False, False), (16, False, True),
           (17, False, False), (18, False, True)]
# The cache API's newest calls (clean, prune) are 2.18.
CURRENT_MINOR = 17
CURRENT_MINOR_WITH_CACHE = 18

_PATH_VERSION = re.compile(r'^/v2(?:\.(\d+))?(/.*)?$')
_ACCEPT_VERSION = re.compile(
    r'application/vnd\.openstack\.images-v2(?:\.\d+)?')


def _multistore():
    return bool(getattr(CONF, 'enabled_backends', None))


def version_list(host_url):
    base = (CONF.public_endpoint or host_url).rstrip('/')
    multistore = _multistore()
    cache = bool(getattr(CONF, 'image_cache_dir', None))
    current = CURRENT_MINOR_WITH_CACHE if cache else CURRENT_MINOR
    versions = []
    for minor, needs_multistore, needs_cache in _MINORS:
        if (needs_multistore and not multistore) or (needs_cache and
                                                     not cache):
            continue
        versions.append({
            'id': 'v2.%d' % minor,
            'status': 'CURRENT' if minor == current else 'SUPPORTED',
            'links': [{'rel': 'self', 'href': base + '/v2/'}],
        })
    versions.reverse()
    return {'versions': versions}


def _version_response(environ, start_response, status):
    scheme = environ.get('wsgi.url_scheme', 'http')
    host = environ.get('HTTP_HOST') or '%s:%s' % (environ['SERVER_NAME'],
                                                  environ['SERVER_PORT'])
    body = json.dumps(version_list('%s://%s' % (scheme, host))).encode()
    start_response(status, [('Content-Type', 'application/json'),
                            ('Content-Length', str(len(body)))])
    return [body]


class VersionNegotiation:
    """Route /, /versions, /v2.N/... and unknown versions.

    Runs before authentication, so discovery needs no token.
    """

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        if path in ('', '/'):
            return _version_response(environ, start_response,
                                     '300 Multiple Choices')
        if path in ('/versions', '/versions/'):
            return _version_response(environ, start_response, '200 OK')
        match = _PATH_VERSION.match(path)
        if match is None:
            accept = environ.get('HTTP_ACCEPT', '')
            if _ACCEPT_VERSION.search(accept) and not path.startswith('/v'):
                environ['PATH_INFO'] = '/v2' + path
                return self.app(environ, start_response)
            if re.match(r'^/v\d', path):
                # Another major version (or a malformed one).
                return _version_response(environ, start_response,
                                         '300 Multiple Choices')
            return self.app(environ, start_response)
        rest = match.group(2)
        if rest is None:
            # /v2 -> /v2/ as the reference redirects.
            start_response('302 Found', [('Location', '/v2/'),
                                         ('Content-Length', '0')])
            return [b'']
        if match.group(1) is not None:
            environ['PATH_INFO'] = '/v2' + rest
        return self.app(environ, start_response)


def create_resource(global_conf, **local_conf):
    """The version document as an app (a reference paste file's
    ``glance.api.versions:create_resource``, mounted at ``/``)."""
    def versions_app(environ, start_response):
        path = environ.get('PATH_INFO', '')
        status = ('200 OK' if path.rstrip('/') == '/versions'
                  else '300 Multiple Choices')
        return _version_response(environ, start_response, status)
    return versions_app
