"""The context middleware: RequestContext from identity headers."""

import json

import pytest

from glance.api.middleware import context as context_mw


class Downstream:
    def __init__(self, headers=()):
        self.contexts = []
        self.headers = list(headers)

    def __call__(self, environ, start_response):
        self.contexts.append(environ['glance.context'])
        start_response('200 OK', [('Content-Type', 'text/plain')] +
                       self.headers)
        return [b'ok']


def call(headers=None, keystone=False, downstream=None, request_id=None):
    app = downstream or Downstream()
    middleware = context_mw.ContextMiddleware(app,
                                              trust_headers_only=keystone)
    environ = {'REQUEST_METHOD': 'GET', 'PATH_INFO': '/v2/images',
               'SERVER_NAME': 'localhost', 'SERVER_PORT': '80',
               'wsgi.url_scheme': 'http'}
    if request_id is not None:
        environ['openstack.request_id'] = request_id
    for name, value in (headers or {}).items():
        environ['HTTP_' + name.upper().replace('-', '_')] = value
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured['status'] = status
        captured['headers'] = response_headers

    body = b''.join(middleware(environ, start_response))
    return captured['status'], captured['headers'], body, app


def only_context(headers=None, **kwargs):
    status, _h, _b, app = call(headers, **kwargs)
    assert status == '200 OK'
    [ctx] = app.contexts
    return ctx


def header(headers, name):
    values = [v for k, v in headers if k.lower() == name.lower()]
    assert len(values) <= 1
    return values[0] if values else None


# -- default identity -----------------------------------------------------

def test_no_headers_is_the_default_identity():
    ctx = only_context()
    assert ctx.project_id == 'admin'
    assert ctx.user_id == 'admin'
    assert sorted(ctx.roles) == ['admin', 'member', 'reader']
    assert ctx.is_admin


def test_default_identity_from_config(conf):
    conf.config(project_id='p0', user_id='u0', roles=['Member', 'reader'],
                group='noauth')
    ctx = only_context()
    assert ctx.project_id == 'p0'
    assert ctx.user_id == 'u0'
    assert ctx.roles == ['member', 'reader']
    assert not ctx.is_admin


def test_unrelated_headers_still_get_the_default_identity():
    ctx = only_context({'Accept': 'application/json',
                        'X-Auth-Token': 'ignored'})
    assert ctx.project_id == 'admin'


def test_keystone_flavor_has_no_default_identity():
    ctx = only_context(keystone=True)
    assert ctx.project_id is None
    assert ctx.user_id is None
    assert ctx.roles == []
    assert not ctx.is_admin


# -- identity headers -----------------------------------------------------

def test_headers_are_trusted():
    ctx = only_context({'X-Project-Id': 'p1', 'X-User-Id': 'u1',
                        'X-Roles': 'member,reader'})
    assert ctx.project_id == 'p1'
    assert ctx.user_id == 'u1'
    assert ctx.roles == ['member', 'reader']
    assert not ctx.is_admin
    assert ctx.owner == 'p1'


def test_keystone_flavor_reads_the_same_headers():
    ctx = only_context({'X-Identity-Status': 'Confirmed',
                        'X-Project-Id': 'p1', 'X-User-Id': 'u1',
                        'X-Roles': 'reader'}, keystone=True)
    assert ctx.project_id == 'p1'
    assert ctx.roles == ['reader']


def test_any_identity_header_turns_the_default_off():
    ctx = only_context({'X-Roles': 'reader'})
    assert ctx.project_id is None
    assert ctx.roles == ['reader']
    ctx = only_context({'X-Project-Id': 'p1'})
    assert ctx.project_id == 'p1'
    assert ctx.roles == []
    assert not ctx.is_admin


@pytest.mark.parametrize('name', ['X-Tenant-Id', 'X-Tenant'])
def test_legacy_project_headers(name):
    ctx = only_context({name: 'p2', 'X-Roles': 'member'})
    assert ctx.project_id == 'p2'


def test_legacy_role_header():
    ctx = only_context({'X-Project-Id': 'p', 'X-Role': 'member'})
    assert ctx.roles == ['member']


@pytest.mark.parametrize('roles,expected', [
    ('Member,READER', ['member', 'reader']),
    (' member , reader ', ['member', 'reader']),
    ('admin', ['admin']),
    ('member,,reader,', ['member', 'reader']),
    ('', []),
    ('member%2Creader', ['member', 'reader']),     # python-glanceclient
    ('Member%2CReader', ['member', 'reader']),
    ('my%20role', ['my role']),
])
def test_roles(roles, expected):
    ctx = only_context({'X-Project-Id': 'p', 'X-Roles': roles})
    assert ctx.roles == expected


@pytest.mark.parametrize('roles', ['Admin', 'ADMIN', 'admin%2Creader'])
def test_admin_role_in_any_case_is_admin(roles):
    assert only_context({'X-Project-Id': 'p', 'X-Roles': roles}).is_admin


def test_unknown_role_only():
    ctx = only_context({'X-Project-Id': 'p', 'X-Roles': 'bogus'})
    assert ctx.roles == ['bogus']
    assert not ctx.is_admin


# -- identity status ------------------------------------------------------

@pytest.mark.parametrize('keystone', [False, True])
@pytest.mark.parametrize('status', ['Invalid', 'invalid', 'Bogus', ''])
def test_identity_status_not_confirmed_is_401(keystone, status):
    code, headers, body, app = call({'X-Identity-Status': status,
                                     'X-Project-Id': 'p',
                                     'X-Roles': 'admin'}, keystone=keystone)
    assert code.startswith('401')
    assert app.contexts == []
    assert b'401' in body


def test_identity_status_alone_invalid_is_401():
    code, _h, _b, app = call({'X-Identity-Status': 'Invalid'})
    assert code.startswith('401')
    assert app.contexts == []


def test_identity_status_confirmed():
    ctx = only_context({'X-Identity-Status': 'Confirmed',
                        'X-Project-Id': 'p', 'X-Roles': 'member'})
    assert ctx.project_id == 'p'


def test_401_as_json():
    code, headers, body, _app = call({'X-Identity-Status': 'Invalid',
                                      'Accept': 'application/json'})
    assert code.startswith('401')
    assert header(headers, 'Content-Type').startswith('application/json')
    document = json.loads(body)
    assert document['code'] == '401 Unauthorized'
    assert document['title'] == 'Unauthorized'


# -- request ids (reference item 26) --------------------------------------

def test_request_id_from_oslo_middleware():
    status, headers, _b, app = call(request_id='req-from-oslo')
    assert app.contexts[0].request_id == 'req-from-oslo'
    # The request_id middleware outside sets the response header itself.
    assert header(headers, 'x-openstack-request-id') is None


def test_caller_request_id_is_echoed():
    downstream = Downstream(headers=[('x-openstack-request-id',
                                      'req-generated')])
    caller = 'req-0123abcd-4567-89ef-0123-456789abcdef'
    status, headers, _b, app = call({'X-Openstack-Request-Id': caller},
                                    downstream=downstream,
                                    request_id='req-generated')
    assert status == '200 OK'
    assert app.contexts[0].request_id == caller
    assert header(headers, 'x-openstack-request-id') == caller


@pytest.mark.parametrize('caller', ['not-a-req-id', 'req-', 'req-has space',
                                    'req-<script>', 'REQ-abc', 'abc'])
def test_other_caller_request_ids_are_not_used(caller):
    status, headers, _b, app = call({'X-Openstack-Request-Id': caller},
                                    request_id='req-generated')
    assert status == '200 OK'
    assert app.contexts[0].request_id == 'req-generated'
    assert header(headers, 'x-openstack-request-id') is None


def test_request_id_at_the_limit():
    caller = 'req-' + 'a' * (context_mw.MAX_REQUEST_ID_LENGTH - 4)
    status, headers, _b, app = call({'X-Openstack-Request-Id': caller})
    assert status == '200 OK'
    assert header(headers, 'x-openstack-request-id') == caller


@pytest.mark.parametrize('caller', [
    'req-' + 'a' * 61, 'x' * 65, 'req-' + 'a' * 1000])
def test_request_id_too_long_is_431(caller):
    assert len(caller) > context_mw.MAX_REQUEST_ID_LENGTH
    status, headers, body, app = call({'X-Openstack-Request-Id': caller,
                                       'X-Project-Id': 'p'})
    assert status.startswith('431')
    assert app.contexts == []
    assert b'431' in body


def test_max_request_id_length():
    assert context_mw.MAX_REQUEST_ID_LENGTH == 64


# -- paste factory --------------------------------------------------------

@pytest.mark.parametrize('local,keystone', [({}, False),
                                            ({'keystone': 'true'}, True),
                                            ({'keystone': 'True'}, True),
                                            ({'keystone': 'false'}, False)])
def test_factory(local, keystone):
    make = context_mw.ContextMiddleware.factory({}, **local)
    middleware = make(Downstream())
    assert isinstance(middleware, context_mw.ContextMiddleware)
    assert middleware.keystone is keystone
