"""The version document and version negotiation (reference item 7)."""

import json

import pytest

from glance.api import versions


class Downstream:
    """A fake application that records what reached it."""

    def __init__(self):
        self.calls = []

    def __call__(self, environ, start_response):
        self.calls.append(environ['PATH_INFO'])
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'downstream']


def environ(path, method='GET', accept=None, host='glance.example:9292',
            scheme='http'):
    env = {'REQUEST_METHOD': method, 'PATH_INFO': path,
           'SERVER_NAME': 'server.local', 'SERVER_PORT': '9292',
           'wsgi.url_scheme': scheme}
    if host is not None:
        env['HTTP_HOST'] = host
    if accept is not None:
        env['HTTP_ACCEPT'] = accept
    return env


def call(path, **kwargs):
    app = Downstream()
    middleware = versions.VersionNegotiation(app)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured['status'] = status
        captured['headers'] = dict(headers)

    body = b''.join(middleware(environ(path, **kwargs), start_response))
    return captured['status'], captured['headers'], body, app.calls


def version_ids(body):
    return [v['id'] for v in json.loads(body)['versions']]


# -- the version document -------------------------------------------------

def test_root_is_300():
    status, headers, body, calls = call('/')
    assert status == '300 Multiple Choices'
    assert headers['Content-Type'] == 'application/json'
    assert int(headers['Content-Length']) == len(body)
    assert calls == []
    assert 'v2.17' in version_ids(body)


def test_empty_path_is_300():
    status, _h, _b, calls = call('')
    assert status.startswith('300')
    assert calls == []


@pytest.mark.parametrize('path', ['/versions', '/versions/'])
def test_versions_is_200(path):
    status, _h, body, calls = call(path)
    assert status == '200 OK'
    assert calls == []
    assert json.loads(body)['versions']


@pytest.mark.parametrize('method,path,code', [('POST', '/versions', '200'),
                                              ('POST', '/', '300'),
                                              ('DELETE', '/', '300'),
                                              ('PUT', '/versions', '200')])
def test_method_is_not_checked(method, path, code):
    status, _h, _b, calls = call(path, method=method)
    assert status.startswith(code)
    assert calls == []


def test_document_without_multistore():
    body = json.loads(call('/versions')[2])
    ids = [v['id'] for v in body['versions']]
    assert ids == ['v2.17', 'v2.15', 'v2.7', 'v2.6', 'v2.5', 'v2.4',
                   'v2.3', 'v2.2', 'v2.1', 'v2.0']
    current = [v['id'] for v in body['versions']
               if v['status'] == 'CURRENT']
    assert current == ['v2.17']
    for version in body['versions']:
        assert version['status'] in ('CURRENT', 'SUPPORTED')
        assert version['links'] == [
            {'rel': 'self', 'href': 'http://glance.example:9292/v2/'}]


def test_gaps_without_cache():
    ids = version_ids(call('/versions')[2])
    # 2.14, 2.16 and 2.18 need image_cache_dir.
    for missing in ('v2.14', 'v2.16', 'v2.18'):
        assert missing not in ids


def test_multistore_versions(conf):
    try:
        versions.CONF.enabled_backends
    except versions.cfg.NoSuchOptError:
        # Registered by the store module when that is loaded.
        conf.register_opt(versions.cfg.DictOpt('enabled_backends'))
    conf.config(enabled_backends={'fast': 'file', 'cheap': 'file'})
    ids = version_ids(call('/versions')[2])
    for minor in range(8, 14):
        assert 'v2.%d' % minor in ids
    assert ids[0] == 'v2.17'
    assert ids == sorted(ids, key=lambda v: -int(v.split('.')[1]))
    assert 'v2.14' not in ids and 'v2.16' not in ids


def test_multistore_versions_hidden_without_backends():
    ids = version_ids(call('/versions')[2])
    for minor in range(8, 14):
        assert 'v2.%d' % minor not in ids


def test_public_endpoint(conf):
    conf.config(public_endpoint='https://images.example.com/')
    body = json.loads(call('/')[2])
    for version in body['versions']:
        assert version['links'][0]['href'] == \
            'https://images.example.com/v2/'


def test_href_without_host_header():
    body = json.loads(call('/', host=None, scheme='https')[2])
    assert body['versions'][0]['links'][0]['href'] == \
        'https://server.local:9292/v2/'


def test_version_list_function():
    document = versions.version_list('http://h:1/')
    assert document['versions'][0] == {
        'id': 'v2.17', 'status': 'CURRENT',
        'links': [{'rel': 'self', 'href': 'http://h:1/v2/'}]}


# -- negotiation ----------------------------------------------------------

@pytest.mark.parametrize('path', ['/v2/images', '/v2/images/x/file',
                                  '/v2/schemas/image', '/v2/'])
def test_v2_passes_through(path):
    status, _h, body, calls = call(path)
    assert status == '200 OK'
    assert body == b'downstream'
    assert calls == [path]


@pytest.mark.parametrize('path,expected', [
    ('/v2.0/images', '/v2/images'),
    ('/v2.1/images', '/v2/images'),
    ('/v2.17/images/abc', '/v2/images/abc'),
    ('/v2.99/images', '/v2/images'),
    ('/v2.1/', '/v2/'),
])
def test_minor_version_in_path(path, expected):
    _s, _h, _b, calls = call(path)
    assert calls == [expected]


@pytest.mark.parametrize('path', ['/v2', '/v2.1'])
def test_v2_without_slash_redirects(path):
    status, headers, body, calls = call(path)
    assert status == '302 Found'
    assert headers['Location'] == '/v2/'
    assert body == b''
    assert calls == []


@pytest.mark.parametrize('path', ['/v1/images', '/v1', '/v3/images', '/v3',
                                  '/v10/x', '/v2x/images', '/v1.1/images'])
def test_unknown_major_is_300(path):
    status, _h, body, calls = call(path)
    assert status == '300 Multiple Choices'
    assert calls == []
    assert 'v2.17' in version_ids(body)


@pytest.mark.parametrize('path', ['/healthcheck', '/images', '/vx/images',
                                  '/version'])
def test_other_paths_pass_through(path):
    _s, _h, _b, calls = call(path)
    assert calls == [path]


@pytest.mark.parametrize('accept', [
    'application/vnd.openstack.images-v2',
    'application/vnd.openstack.images-v2.1',
    'application/vnd.openstack.images-v2.17',
    'application/json, application/vnd.openstack.images-v2.5',
])
def test_accept_header_selects_v2(accept):
    _s, _h, _b, calls = call('/images', accept=accept)
    assert calls == ['/v2/images']


def test_accept_header_does_not_double_prefix():
    _s, _h, _b, calls = call('/v2/images',
                             accept='application/vnd.openstack.images-v2.1')
    assert calls == ['/v2/images']


def test_accept_header_on_root_still_lists_versions():
    status, _h, _b, calls = call(
        '/', accept='application/vnd.openstack.images-v2.1')
    assert status.startswith('300')
    assert calls == []


def test_other_accept_header_is_ignored():
    _s, _h, _b, calls = call('/images', accept='application/json')
    assert calls == ['/images']


def test_factory():
    assert versions.VersionNegotiation.factory({}) is \
        versions.VersionNegotiation


def test_document_with_the_image_cache(conf, tmp_path):
    conf.config(image_cache_dir=str(tmp_path))
    body = json.loads(call('/versions')[2])
    assert [v['id'] for v in body['versions']] == [
        'v2.18', 'v2.17', 'v2.16', 'v2.15', 'v2.14', 'v2.7', 'v2.6', 'v2.5',
        'v2.4', 'v2.3', 'v2.2', 'v2.1', 'v2.0']
    assert [v['id'] for v in body['versions']
            if v['status'] == 'CURRENT'] == ['v2.18']
