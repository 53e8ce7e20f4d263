"""Builds the RequestContext of each request from identity headers.

The same middleware serves both flavors. With Keystone, auth_token has
validated the token and set the headers; without it, the headers are
trusted as sent, and a request with none of them acts as the configured
default identity so that a plain curl works.
"""

import re
import urllib.parse

from oslo_config import cfg

from glance.common import exception
from glance.common import wsgi
from glance import context

CONF = cfg.CONF

_IDENTITY_HEADERS = ('HTTP_X_PROJECT_ID', 'HTTP_X_TENANT_ID',
                     'HTTP_X_TENANT', 'HTTP_X_USER_ID', 'HTTP_X_USER',
                     'HTTP_X_ROLES', 'HTTP_X_ROLE', 'HTTP_X_IDENTITY_STATUS')
_REQUEST_ID = re.compile(r'^req-[A-Za-z0-9-]+$')
MAX_REQUEST_ID_LENGTH = 64


class ContextMiddleware:
    def __init__(self, app, trust_headers_only=False):
        self.app = app
        self.keystone = trust_headers_only

    @classmethod
    def factory(cls, global_conf, **local_conf):
        keystone = local_conf.get('keystone', 'false').lower() == 'true'

        def filter(app):
            return cls(app, trust_headers_only=keystone)
        return filter

    def _authenticate_header(self):
        """WWW-Authenticate as keystonemiddleware sends it."""
        try:
            uri = CONF.keystone_authtoken.www_authenticate_uri
        except cfg.Error:
            uri = None
        return {'WWW-Authenticate':
                'Keystone uri="%s"' % uri if uri else 'Keystone'}

    def _error(self, environ, start_response, error):
        import webob
        response = wsgi.error_response(webob.Request(environ), error)
        return response(environ, start_response)

    def _caller_request_id(self, environ):
        caller = environ.get('HTTP_X_OPENSTACK_REQUEST_ID')
        if caller is None:
            return None
        if len(caller) > MAX_REQUEST_ID_LENGTH:
            raise exception.HeaderTooLarge(
                'X-Openstack-Request-Id is longer than %d characters.'
                % MAX_REQUEST_ID_LENGTH)
        return caller if _REQUEST_ID.match(caller) else None

    def _build(self, environ, request_id):
        kwargs = {'request_id': request_id}
        if environ.get('HTTP_X_IDENTITY_STATUS', 'Confirmed') != 'Confirmed':
            raise exception.Unauthorized(headers=self._authenticate_header())
        if not self.keystone and not any(h in environ
                                         for h in _IDENTITY_HEADERS):
            kwargs.update(project_id=CONF.noauth.project_id,
                          user_id=CONF.noauth.user_id,
                          roles=list(CONF.noauth.roles))
        else:
            roles = environ.get('HTTP_X_ROLES', environ.get('HTTP_X_ROLE'))
            # python-glanceclient percent-encodes identity header values.
            roles = urllib.parse.unquote(roles) if roles else ''
            kwargs['roles'] = [r.strip() for r in roles.split(',')
                               if r.strip()]
        return context.RequestContext.from_environ(environ, **kwargs)

    def __call__(self, environ, start_response):
        try:
            caller_id = self._caller_request_id(environ)
            request_id = caller_id or environ.get('openstack.request_id')
            environ['glance.context'] = self._build(environ, request_id)
        except exception.GlanceError as e:
            return self._error(environ, start_response, e)
        if caller_id is None:
            return self.app(environ, start_response)

        def echo_request_id(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers
                       if k.lower() != 'x-openstack-request-id']
            headers.append(('x-openstack-request-id', caller_id))
            return start_response(status, headers, exc_info)
        return self.app(environ, echo_request_id)


class UnauthenticatedContextMiddleware(ContextMiddleware):
    """The reference's name for the no-Keystone context filter: identity
    from request headers, or the [noauth] identity when there are none."""

    @classmethod
    def factory(cls, global_conf, **local_conf):
        def filter(app):
            return cls(app, trust_headers_only=False)
        return filter
