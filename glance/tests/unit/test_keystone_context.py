"""The context of the keystone flavor, from the headers auth_token sets."""

from glance.api.middleware import context as context_mw


class helpers:
    """Call the context middleware as the keystone pipeline does."""

    @staticmethod
    def call(headers, keystone=True, request_id=None):
        contexts = []

        def app(environ, start_response):
            contexts.append(environ['glance.context'])
            start_response('200 OK', [('Content-Type', 'text/plain')])
            return [b'ok']

        middleware = context_mw.ContextMiddleware(
            app, trust_headers_only=keystone)
        environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/v2/images',
                   'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
                   'wsgi.url_scheme': 'http'}
        if request_id is not None:
            environ['openstack.request_id'] = request_id
        for name, value in headers.items():
            environ['HTTP_' + name.upper().replace('-', '_')] = value
        captured = {}

        def start_response(status, response_headers, exc_info=None):
            captured['status'] = status
            captured['headers'] = response_headers

        b''.join(middleware(environ, start_response))
        return captured['status'], captured['headers'], contexts

    @classmethod
    def only_context(cls, headers, **kwargs):
        status, _headers, contexts = cls.call(headers, **kwargs)
        assert status == '200 OK'
        [ctx] = contexts
        return ctx

    @staticmethod
    def header(headers, name):
        return dict((k.lower(), v) for k, v in headers).get(name.lower())


# What keystonemiddleware's auth_token sets for a project-scoped token
# with a service token alongside.
AUTH_TOKEN_HEADERS = {
    'X-Identity-Status': 'Confirmed',
    'X-Project-Id': 'p-id', 'X-Project-Name': 'alpha',
    'X-Project-Domain-Id': 'default', 'X-Project-Domain-Name': 'Default',
    'X-User-Id': 'u-id', 'X-User-Name': 'alice',
    'X-User-Domain-Id': 'default', 'X-User-Domain-Name': 'Default',
    'X-Roles': 'Member,reader',
    'X-Auth-Token': 'user-token',
    'X-Service-Token': 'service-token',
    'X-Service-Identity-Status': 'Confirmed',
    'X-Service-Roles': 'Service',
    'X-Service-User-Id': 'glance-id',
    'X-Service-Project-Id': 'service-project-id',
}


def test_keystone_context_carries_the_token():
    ctx = helpers.only_context(AUTH_TOKEN_HEADERS, keystone=True,
                               request_id='req-abc')
    assert ctx.project_id == 'p-id'
    assert ctx.project_name == 'alpha'
    assert ctx.user_id == 'u-id'
    assert ctx.user_domain_id == 'default'
    assert ctx.project_domain_id == 'default'
    assert ctx.roles == ['member', 'reader']
    assert ctx.auth_token == 'user-token'
    assert ctx.service_token == 'service-token'
    assert ctx.service_roles == ['service']
    assert ctx.service_user_id == 'glance-id'
    assert ctx.request_id == 'req-abc'
    assert not ctx.is_admin
    assert not ctx.is_service
    values = ctx.to_policy_values()
    assert values['project_id'] == 'p-id'
    assert values['service_roles'] == ['service']


def test_system_scoped_token():
    ctx = helpers.only_context({
        'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u',
        'X-Roles': 'admin,reader', 'OpenStack-System-Scope': 'all'},
        keystone=True)
    assert ctx.system_scope == 'all'
    assert ctx.project_id is None


def test_domain_scoped_token():
    ctx = helpers.only_context({
        'X-Identity-Status': 'Confirmed', 'X-User-Id': 'u',
        'X-Roles': 'reader', 'X-Domain-Id': 'd-id'}, keystone=True)
    assert ctx.domain_id == 'd-id'


def test_401_names_keystone(conf):
    from keystonemiddleware import auth_token  # noqa: registers options
    from keystonemiddleware.auth_token import _opts

    conf.register_opts(_opts._OPTS, group='keystone_authtoken')
    conf.config(www_authenticate_uri='http://ks.example/v3',
                group='keystone_authtoken')
    status, headers, _contexts = helpers.call(
        {'X-Identity-Status': 'Invalid'}, keystone=True)
    assert status.startswith('401')
    assert helpers.header(headers, 'WWW-Authenticate') == \
        'Keystone uri="http://ks.example/v3"'
