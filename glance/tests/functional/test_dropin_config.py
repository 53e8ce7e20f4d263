"""A reference deployment's files, unchanged, on the real server.

Operators' glance-api.conf and glance-image-import.conf write list and
dict options in several styles: the reference's documented ``[a, b]``
and ``['a', 'b']``, the plain ``a, b``, double quotes. Each style is
given to a server of its own, and the effect of every option checked:
the import methods listed, the stores offered, the disk formats taken,
the plugins run on import, the web-download hosts and ports allowed or
refused. Then the reference's paste flavors and a paste file in the
reference's layout, a policy.json in the reference's style, and a
start on a database that was never synced.
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap

import pytest

from glance.tests.functional import import_helpers as h
from glance.tests.functional import server as server_lib


def as_list(style, items):
    items = [str(i) for i in items]
    if style == 'bracketed':
        return '[%s]' % ', '.join(items)
    if style == 'single-quoted':
        return '[%s]' % ', '.join("'%s'" % i for i in items)
    if style == 'double-quoted':
        return ', '.join('"%s"' % i for i in items)
    return ', '.join(items)


def as_dict(style, pairs):
    if style == 'bracketed':
        return '{%s}' % ', '.join('%s: %s' % kv for kv in pairs)
    if style == 'single-quoted':
        return '{%s}' % ', '.join("'%s': '%s'" % kv for kv in pairs)
    if style == 'double-quoted':
        return ', '.join('"%s": "%s"' % kv for kv in pairs)
    return ', '.join('%s:%s' % kv for kv in pairs)


STYLES = ['bracketed', 'single-quoted', 'plain', 'double-quoted']
# Styles whose web-download filter is written with the allowed_* lists;
# the others leave those empty ([] or nothing) and use the disallowed_*.
ALLOW_STYLES = {'bracketed', 'single-quoted'}


def options(style, web_port):
    filtering = {}
    if style in ALLOW_STYLES:
        filtering = {
            'allowed_schemes': as_list(style, ['http']),
            'allowed_hosts': as_list(style, ['127.0.0.1']),
            'allowed_ports': as_list(style, [web_port]),
        }
    else:
        filtering = {
            'allowed_schemes': '[]',
            'disallowed_schemes': as_list(style, ['ftp', 'file']),
            'allowed_hosts': '',
            'disallowed_hosts': as_list(style, ['127.0.0.2', '10.0.0.0/8']),
            'allowed_ports': '[]',
            'disallowed_ports': as_list(style, [1, 2]),
            'disallow_special_addresses': False,
        }
    return {
        'DEFAULT': {
            'enabled_import_methods': as_list(
                style, ['glance-direct', 'web-download']),
            'enabled_backends': as_dict(style, [('fast', 'file'),
                                                ('cheap', 'file')]),
        },
        'glance_store': {'default_backend': 'fast'},
        # Reference options this service does not implement.
        'taskflow_executor': {'engine_mode': 'parallel'},
        'profiler': {'enabled': False},
        'image_format': {
            'disk_formats': as_list(style, ['raw', 'qcow2']),
            'container_formats': as_list(style, ['bare']),
        },
        'image_import_opts': {
            'image_import_plugins': as_list(
                style, ['inject_image_metadata', 'no_op']),
        },
        'inject_metadata_properties': {
            'inject': as_dict(style, [('site', 'here'), ('team', 'ops')]),
            'ignore_user_roles': as_list(style, ['admin']),
        },
        'import_filtering_opts': filtering,
    }


@pytest.fixture(scope='module')
def web():
    web = h.WebServer()
    web.files['/disk.raw'] = b'web data' * 1000
    yield web
    web.stop()


@pytest.fixture(scope='module', params=STYLES)
def styled(request, web):
    server = server_lib.start_or_skip(
        'sqlite', options=options(request.param, web.port))
    yield request.param, server
    server.cleanup_in_background()


def test_import_methods_listed(styled):
    _style, server = styled
    response = server.request('GET', '/v2/info/import')
    assert response.status_code == 200
    assert response.json()['import-methods']['value'] == [
        'glance-direct', 'web-download']


def test_stores_offered(styled):
    _style, server = styled
    response = server.request('GET', '/v2/info/stores')
    assert response.status_code == 200
    ids = {s['id']: s.get('default') for s in response.json()['stores']}
    assert ids == {'fast': 'true', 'cheap': None}


def test_disk_and_container_formats(styled):
    _style, server = styled
    client = server.client()
    try:
        assert client.create_image(disk_format='qcow2',
                                   container_format='bare').status_code == 201
        assert client.create_image(disk_format='vmdk',
                                   container_format='bare').status_code == 400
        assert client.create_image(disk_format='raw',
                                   container_format='ovf').status_code == 400
    finally:
        client.close()


def test_plugins_run_on_import(styled):
    _style, server = styled
    member = server.client(project_id='p1', roles='member,reader')
    admin = server.client()
    try:
        image = h.create_image(member)
        assert h.stage(member, image['id'], b'x' * 4096).status_code == 204
        assert h.import_image(member, image['id']).status_code == 202
        task = h.wait_task(member, image['id'])
        assert task['status'] == 'success', task
        shown = h.show(member, image['id'])
        assert (shown['site'], shown['team']) == ('here', 'ops')
        # ignore_user_roles = [admin]: an admin's image is left alone.
        image = h.create_image(admin)
        assert h.stage(admin, image['id'], b'y' * 4096).status_code == 204
        assert h.import_image(admin, image['id']).status_code == 202
        assert h.wait_task(admin, image['id'])['status'] == 'success'
        assert 'site' not in h.show(admin, image['id'])
    finally:
        member.close()
        admin.close()


def web_download(client, url):
    image = h.create_image(client)
    response = h.import_image(client, image['id'], method='web-download',
                              method_extra={'uri': url})
    return image, response


def test_web_download_hosts_and_ports(styled, web):
    style, server = styled
    client = server.client()
    try:
        image, response = web_download(client, web.url('/disk.raw'))
        assert response.status_code == 202, response.text
        assert h.wait_task(client, image['id'])['status'] == 'success'
        # A host the lists refuse.
        _i, response = web_download(
            client, web.url('/disk.raw', host='127.0.0.2'))
        assert response.status_code == 400, response.text
        # A port the lists refuse.
        refused_port = 1 if style not in ALLOW_STYLES else web.port + 1
        _i, response = web_download(
            client, 'http://127.0.0.1:%d/disk.raw' % refused_port)
        assert response.status_code == 400, response.text
        # A scheme the lists refuse.
        _i, response = web_download(client, 'ftp://127.0.0.1/disk.raw')
        assert response.status_code == 400, response.text
    finally:
        client.close()


def test_unsupported_options_are_reported_once(styled):
    _style, server = styled
    log = server.log_text()
    for option in ('[taskflow_executor] engine_mode', '[profiler] enabled'):
        line = 'Option %s is accepted but not supported' % option
        assert log.count(line) == 1, log


def test_clean_start_logs_no_error(styled):
    _style, server = styled
    log = server.log_text()
    assert ' ERROR ' not in log, log
    assert 'Traceback' not in log, log


# -- paste flavors -----------------------------------------------------

# Enough for keystonemiddleware to refuse a request without a token; no
# Keystone answers there, and none is asked.
KEYSTONE_AUTHTOKEN = {
    'www_authenticate_uri': 'http://127.0.0.1:9/identity',
    'auth_type': 'password', 'auth_url': 'http://127.0.0.1:9/identity',
    'username': 'glance', 'password': 'secret', 'project_name': 'service',
    'user_domain_name': 'Default', 'project_domain_name': 'Default',
}


@pytest.mark.parametrize('flavor', ['caching', 'keystone+cachemanagement'])
def test_reference_paste_flavors_start(flavor):
    server = server_lib.start_or_skip(
        'sqlite', options={'paste_deploy': {'flavor': flavor},
                           'keystone_authtoken': KEYSTONE_AUTHTOKEN})
    try:
        response = server.request('GET', '/v2/images',
                                  project_id='p1', roles='reader')
        if flavor.startswith('keystone'):
            # No token: keystonemiddleware refuses it.
            assert response.status_code == 401
        else:
            assert response.status_code == 200
    finally:
        server.cleanup_in_background()


# A paste file laid out as the reference lays out its own: one urlmap
# composite per flavor, a flavor-keyed pipeline composite, the version
# document at / and the v2 application at /v2, the reference's filter
# factories (osprofiler's among them).
REFERENCE_STYLE_PASTE = """
[composite:glance-api]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck

[composite:glance-api-keystone]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck

[composite:glance-api-keystone+cachemanagement]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck

[composite:api]
paste.composite_factory = glance.api:pipeline_factory
default = cors http_proxy_to_wsgi versionnegotiation osprofiler \
    unauthenticated-context rootapp
keystone = cors http_proxy_to_wsgi versionnegotiation osprofiler \
    authtoken context rootapp
keystone+cachemanagement = cors http_proxy_to_wsgi versionnegotiation \
    osprofiler authtoken context cache cachemanage rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[app:healthcheck]
paste.app_factory = oslo_middleware:Healthcheck.app_factory
backends = disable_by_file
disable_by_file_path = /nonexistent/healthcheck_disable

[filter:versionnegotiation]
paste.filter_factory = \
    glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:cache]
paste.filter_factory = glance.api.middleware.cache:CacheFilter.factory

[filter:cachemanage]
paste.filter_factory = \
    glance.api.middleware.cache_manage:CacheManageFilter.factory

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory

[filter:unauthenticated-context]
paste.filter_factory = \
    glance.api.middleware.context:UnauthenticatedContextMiddleware.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true

[filter:osprofiler]
paste.filter_factory = osprofiler.web:WsgiMiddleware.factory

[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
"""


@pytest.fixture
def reference_paste(tmp_path):
    path = tmp_path / 'glance-api-paste.ini'
    path.write_text(REFERENCE_STYLE_PASTE)
    return str(path)


def test_reference_style_paste_file(reference_paste):
    server = server_lib.start_or_skip('sqlite', options={
        'paste_deploy': {'config_file': reference_paste}})
    try:
        client = server.client(project_id='p1', roles='member,reader')
        try:
            image = h.create_image(client)
            for path in ('/v2/images/%s' % image['id'],
                         '/v2.1/images/%s' % image['id']):
                response = client.get(path)
                assert response.status_code == 200, (path, response.text)
                assert response.json()['id'] == image['id']
            assert client.get('/v2/images').status_code == 200
            assert client.get('/versions').status_code == 200
            assert client.get('/').status_code == 300
            assert client.get('/healthcheck').status_code == 200
        finally:
            client.close()
    finally:
        server.cleanup_in_background()


def test_reference_style_paste_file_keystone_flavor(reference_paste):
    server = server_lib.start_or_skip('sqlite', options={
        'paste_deploy': {'config_file': reference_paste,
                         'flavor': 'keystone+cachemanagement'},
        'keystone_authtoken': KEYSTONE_AUTHTOKEN})
    try:
        response = server.request('GET', '/v2/images', project_id='p1',
                                  roles='admin')
        # Identity headers without a token are not trusted.
        assert response.status_code == 401
        assert server.request('GET', '/versions').status_code == 200
    finally:
        server.cleanup_in_background()


# -- a policy file written for the reference --------------------------

REFERENCE_STYLE_POLICY = {
    # Custom rules in the legacy style, referring to one another.
    'context_is_admin': 'role:admin',
    'admin_or_owner': 'is_admin:True or project_id:%(owner)s',
    # Rule names of the reference, overridden.
    'add_image': 'role:admin',
    'modify_image': 'rule:admin_or_owner',
    'get_images': 'role:reader or role:admin',
    'publicize_image': 'role:admin',
    # Rules the reference declares with a deprecated rule of the same
    # name: written as an old policy file would.
    'get_tasks': 'rule:context_is_admin',
    'stores_info_detail': 'rule:context_is_admin',
}


@pytest.fixture(scope='module')
def policy_server():
    directory = tempfile.mkdtemp(prefix='glance-policy-')
    path = os.path.join(directory, 'policy.json')
    with open(path, 'w') as f:
        json.dump(REFERENCE_STYLE_POLICY, f)
    server = server_lib.start_or_skip('sqlite', options={
        'oslo_policy': {'policy_file': path,
                        'enforce_new_defaults': True,
                        'enforce_scope': True}})
    yield server
    server.cleanup_in_background()


def test_reference_policy_file_rules_apply(policy_server):
    member = policy_server.client(project_id='p1', roles='member,reader')
    admin = policy_server.client(project_id='p1', roles='admin')
    other = policy_server.client(project_id='p2', roles='member,reader')
    try:
        # add_image: admins only, as the file says.
        assert member.create_image(name='x').status_code == 403
        response = admin.create_image(name='shared', visibility='public',
                                      owner='p1')
        assert response.status_code == 201, response.text
        image_id = response.json()['id']
        # modify_image: rule:admin_or_owner, with %(owner)s.
        ops = [{'op': 'replace', 'path': '/name', 'value': 'y'}]
        assert member.patch_image(image_id, ops).status_code == 200
        assert other.patch_image(image_id, ops).status_code == 403
    finally:
        for client in (member, admin, other):
            client.close()


def test_reference_policy_file_clean_start(policy_server):
    log = policy_server.log_text()
    assert ' ERROR ' not in log, log
    assert 'accepted but not supported' not in log


# -- a database that was never synced ---------------------------------

def start_on_empty_database(backend):
    """Run glance-api on an empty database; (exit code, output)."""
    directory = tempfile.mkdtemp(prefix='glance-unsynced-')
    database = server_lib.Database(backend, directory)
    try:
        try:
            url = database.create()
        except server_lib.BackendUnavailable as e:
            if server_lib.require_all_dbs():
                pytest.fail('%s unavailable: %s' % (backend, e))
            pytest.skip('%s unavailable: %s' % (backend, e))
        config = os.path.join(directory, 'glance-api.conf')
        with open(config, 'w') as f:
            f.write(textwrap.dedent("""
                [DEFAULT]
                bind_port = %d
                workers = 1
                state_path = %s
                [database]
                connection = %s
                auto_create_schema = false
                """ % (server_lib.free_port(), directory, url)))
        result = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.api', '--config-file',
             config], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, timeout=120)
        return result.returncode, result.stdout
    finally:
        database.drop()


@pytest.mark.parametrize('backend', server_lib.BACKENDS)
def test_unsynced_database_exits_with_one_line(backend):
    code, output = start_on_empty_database(backend)
    assert code != 0, output
    assert 'Traceback' not in output, output
    last = output.strip().splitlines()[-1]
    assert last.startswith('glance-api: the database'), output
    assert 'glance-manage db sync' in last


def test_bad_value_stops_the_start_with_one_line(tmp_path):
    config = tmp_path / 'glance-api.conf'
    config.write_text(textwrap.dedent("""
        [DEFAULT]
        bind_port = %d
        workers = 1
        state_path = %s
        [import_filtering_opts]
        allowed_ports = [80, http]
        """ % (server_lib.free_port(), tmp_path)))
    result = subprocess.run(
        [sys.executable, '-m', 'glance.cmd.api', '--config-file',
         str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, text=True, timeout=120)
    assert result.returncode != 0, result.stdout
    assert 'Traceback' not in result.stdout, result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith('glance-api: invalid configuration'), last
    assert 'allowed_ports' in last
