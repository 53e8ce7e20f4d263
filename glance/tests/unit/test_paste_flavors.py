"""The reference's paste flavors load from the shipped paste file, and the
reference's factory names resolve in this tree."""

import json
import os
import subprocess
import sys

from paste import deploy
import pytest
import webob

from glance.api import paste_compat

REFERENCE_FLAVORS = ['', 'keystone', 'caching', 'cachemanagement',
                     'keystone+caching', 'keystone+cachemanagement']


# Loads every flavor in a fresh interpreter: the keystone ones register
# keystonemiddleware's options on the configuration they are given.
_LOAD_FLAVORS = """
import json, sys
import webob
from oslo_config import cfg
from glance.api import app
from glance.common import config
config.parse_args([], default_config_files=[])
statuses = {}
for flavor in sys.argv[1:]:
    cfg.CONF.set_override('flavor', flavor, group='paste_deploy')
    application = app.load_app()
    response = webob.Request.blank('/versions').get_response(application)
    statuses[flavor] = [response.status_int,
                        response.json['versions'][0]['id']]
print(json.dumps(statuses))
"""


def test_every_reference_flavor_loads_and_answers_versions(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, '-c', _LOAD_FLAVORS] + REFERENCE_FLAVORS,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=300, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout.strip().splitlines()[-1])
    assert statuses == {flavor: [200, 'v2.17']
                        for flavor in REFERENCE_FLAVORS}


@pytest.mark.parametrize('name', [
    'glance.api:root_app_factory',
    'glance.api:pipeline_factory',
    'glance.api.versions:create_resource',
    'glance.api.v2.router:API.factory',
    'glance.api.middleware.version_negotiation:'
    'VersionNegotiationFilter.factory',
    'glance.api.middleware.context:ContextMiddleware.factory',
    'glance.api.middleware.context:UnauthenticatedContextMiddleware.factory',
    'glance.api.middleware.cache:CacheFilter.factory',
    'glance.api.middleware.cache_manage:CacheManageFilter.factory',
    'glance.api.middleware.gzip:GzipMiddleware.factory',
    'osprofiler.web:WsgiMiddleware.factory',
])
def test_reference_factory_names_resolve(name):
    module, _, attribute = name.partition(':')
    target = __import__(module, fromlist=['_'])
    for part in attribute.split('.'):
        target = getattr(target, part)
    assert callable(target)


class _Loader:
    def __init__(self):
        self.built = []

    def get_app(self, name):
        def application(environ, start_response):
            start_response('200 OK', [])
            return [name.encode()]
        return application

    def get_filter(self, name):
        def make(app):
            def filtered(environ, start_response):
                self.built.append(name)
                return app(environ, start_response)
            return filtered
        return make


@pytest.mark.parametrize('flavor,expected', [
    ('', ['a', 'b']), ('keystone', ['k', 'b'])])
def test_pipeline_factory_picks_the_flavor(conf, flavor, expected):
    conf.config(flavor=flavor, group='paste_deploy')
    loader = _Loader()
    application = paste_compat.pipeline_factory(
        loader, {}, default='a b root', keystone='k b root')
    body = webob.Request.blank('/').get_response(application).body
    assert body == b'root'
    assert loader.built == expected


def test_pipeline_factory_names_the_missing_flavor(conf):
    conf.config(flavor='caching', group='paste_deploy')
    with pytest.raises(RuntimeError) as raised:
        paste_compat.pipeline_factory(_Loader(), {}, default='root')
    assert "'caching'" in str(raised.value)


def test_v2_router_restores_the_prefix():
    from glance.api.v2 import router as v2_router
    seen = {}

    class Inner:
        def __call__(self, environ, start_response):
            seen.update(script=environ['SCRIPT_NAME'],
                        path=environ['PATH_INFO'])
            start_response('204 No Content', [])
            return []
    api = v2_router.API.__new__(v2_router.API)
    api.router = Inner()
    request = webob.Request.blank('/images')
    request.script_name = '/glance/v2'
    request.get_response(api)
    assert seen == {'script': '/glance', 'path': '/v2/images'}


def test_paste_deploy_resolves_reference_names(tmp_path):
    path = tmp_path / 'paste.ini'
    path.write_text(
        '[composite:main]\n'
        'paste.composite_factory = glance.api:root_app_factory\n'
        '/: versions\n'
        '[app:versions]\n'
        'paste.app_factory = glance.api.versions:create_resource\n')
    application = deploy.loadapp('config:%s' % path, name='main')
    response = webob.Request.blank('/').get_response(application)
    assert response.status_int == 300


@pytest.mark.parametrize('command,prog', [
    ('glance.cmd.manage', 'glance-manage'),
    ('glance.cmd.scrubber', 'glance-scrubber'),
    ('glance.cmd.api', 'glance-api'),
])
def test_commands_name_themselves(command, prog):
    result = subprocess.run([sys.executable, '-m', command, '--help'],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith('usage: %s ' % prog), result.stdout


def test_workers_default_to_the_cpu_count(conf):
    from oslo_concurrency import processutils
    from oslo_config import cfg
    assert cfg.CONF.workers == processutils.get_worker_count()
