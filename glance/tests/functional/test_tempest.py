"""OpenStack's integration tests of the image API, against our service.

Tempest's image API tests (``tempest.api.image``) and glance-tempest-
plugin's tests run, through ``tempest run`` at concurrency 2, against a
real glance-api behind a real Keystone, deployed as the reference's
devstack gate deploys it:

* multi-store: two file stores (``fast``, ``slow``) and a read-only http
  store (``web``), ``fast`` the default, with weights in the stores'
  alphabetical order (Tempest's import waiter compares the ``stores``
  of an image with the sorted list, while StoreWeightTest wants them by
  weight: only such names satisfy both, as in the reference's gate);
* ``show_multiple_locations`` and ``do_secure_hash`` on;
* glance-direct, web-download, copy-image and glance-download enabled,
  web-download allowed from a loopback web server that also serves
  Tempest's ``http_image`` and ``http_qcow2_image``;
* secure RBAC: ``[oslo_policy] enforce_new_defaults`` and
  ``enforce_scope`` on, Tempest's ``[enforce_scope] glance`` too;
* PostgreSQL when ``GLANCE_TEST_POSTGRESQL_URL`` names a server (as in
  CI), SQLite otherwise;
* a second API node (``image_remote`` in the catalog, Tempest's
  ``alternate_image_endpoint``) on the same database, for the tests that
  stage on one node and import or delete through the other.

Tempest creates its own projects and users (dynamic credentials, with the
member, reader and admin roles) through Keystone's admin account.

The verdict compares the results with tempest_expected_failures.txt (see
tempest_expectations.py): the run fails on a failure the list does not
name, and on an entry of the list that no longer fails (remove it). A
summary line with the counts is printed at the end of the pytest run.

Marked ``tempest``: ``pytest -m tempest`` runs only this, ``-m "not
tempest"`` everything else. ``GLANCE_TEST_TEMPEST_REGEX`` narrows the run
(the verdict then only judges the entries that match a test that ran).
"""

import os
import shutil
import tempfile
import time

import pytest

from glance.tests.functional import keystone_fixture
from glance.tests.functional import server as server_lib
from glance.tests.functional import tempest_expectations
from glance.tests.functional import tempest_fixture

pytestmark = [pytest.mark.tempest, pytest.mark.xdist_group('tempest')]

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_FAILURES = os.path.join(HERE, 'tempest_expected_failures.txt')
REGEX_ENV = 'GLANCE_TEST_TEMPEST_REGEX'

# Reasons of the expected-failure list: an API that is not built yet, or
# something the lead must route.
REASON_PREFIXES = ('metadefs:', 'cache:', 'TODO(lead)')

STORES = 'fast:file,slow:file,web:http'


def glance_options(keystone, files, self_url, cache_dir):
    """glance-api.conf of one node of the deployment."""
    return {
        'DEFAULT': {
            'enabled_backends': STORES,
            'show_multiple_locations': True,
            'do_secure_hash': True,
            'hashing_algorithm': 'sha512',
            'enabled_import_methods': 'glance-direct,web-download,'
                                      'copy-image,glance-download',
            'worker_self_reference_url': self_url,
            'image_cache_dir': cache_dir,
        },
        'glance_store': {'default_backend': 'fast'},
        'fast': {'store_description': 'Fast file store', 'weight': 200},
        'slow': {'store_description': 'Slow file store', 'weight': 100},
        'web': {'store_description': 'Read-only http store', 'weight': 50},
        'import_filtering_opts': {
            'allowed_hosts': '127.0.0.1',
            'allowed_ports': files.port,
        },
        'oslo_policy': {'enforce_new_defaults': True,
                        'enforce_scope': True},
        'paste_deploy': {'flavor': 'keystone+cachemanagement'},
        'keystone_authtoken': keystone.authtoken_options(),
    }


class Deployment:
    def __init__(self, keystone, files, primary, remote, directory):
        self.keystone = keystone
        self.files = files
        self.primary = primary
        self.remote = remote
        self.directory = directory


def start_primary(keystone, files, directory):
    """The first node, on PostgreSQL when there is one (as the gate runs
    on a database server: three processes share this database), else on
    SQLite."""
    backends = ['sqlite']
    if os.environ.get(server_lib.DB_URL_ENV['postgresql']):
        backends.insert(0, 'postgresql')
    for backend in backends:
        primary = server_lib.Server(backend, workers=2, threads=8)
        primary.port = server_lib.free_port()
        primary.options = glance_options(
            keystone, files, primary.url,
            os.path.join(directory, 'cache-primary-' + backend))
        try:
            return primary.start()
        except server_lib.BackendUnavailable:
            primary.cleanup()
            if server_lib.require_all_dbs():
                raise
    raise AssertionError('no backend')   # sqlite is always there


@pytest.fixture(scope='module')
def deployment():
    directory = tempfile.mkdtemp(prefix='glance-tempest-')
    keystone = keystone_fixture.start_or_skip()
    files = primary = remote = None
    try:
        keystone.create_user('glance', 'service', 'service')
        files = tempest_fixture.ImageFiles(os.path.join(directory, 'www'))
        primary = start_primary(keystone, files, directory)
        remote = server_lib.Server('sqlite')
        remote.port = server_lib.free_port()
        remote.options = glance_options(
            keystone, files, remote.url,
            os.path.join(directory, 'cache-remote'))
        remote.options['database'] = {'connection': primary.db_url}
        remote.start()
        keystone.register_image_endpoint(primary.url)
        keystone.register_image_endpoint(remote.url,
                                         service_type='image_remote',
                                         name='glance-remote')
        yield Deployment(keystone, files, primary, remote, directory)
    finally:
        # The services' logs go with Tempest's (kept by KEEP_TMP_ENV).
        logs = os.path.join(directory, 'logs')
        os.makedirs(logs, exist_ok=True)
        for name, node in (('glance-api', primary),
                           ('glance-api-remote', remote),
                           ('keystone', keystone)):
            if node is not None and os.path.exists(node.log_path):
                node.stop()
                shutil.copy(node.log_path,
                            os.path.join(logs, '%s.log' % name))
        for node in (remote, primary):
            if node is not None:
                node.cleanup()
        if files is not None:
            files.stop()
        keystone.cleanup()
        if not os.environ.get(server_lib.KEEP_TMP_ENV):
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope='module')
def tempest_venv():
    """Tempest's virtualenv, installed (or found in the cache) before the
    deployment starts."""
    try:
        return tempest_fixture.install()
    except (tempest_fixture.TempestUnavailable, OSError) as e:
        message = 'Tempest is unavailable: %s' % e
        if server_lib.require_all_dbs():
            pytest.fail(message)
        pytest.skip(message)


def test_expected_failure_list_is_well_formed():
    entries = tempest_expectations.load(EXPECTED_FAILURES)
    for entry in entries:
        assert entry.reason.startswith(REASON_PREFIXES), (
            'line %d: a reason starts with one of %s: %s'
            % (entry.line, ', '.join(REASON_PREFIXES), entry.reason))
        assert entry.pattern.startswith(
            ('tempest\\.api\\.image\\.', 'glance_tempest_plugin\\.')), (
            'line %d: an entry names a test id from its start: %s'
            % (entry.line, entry.pattern))


def test_tempest_image_api(tempest_venv, deployment, request):
    workdir = os.path.join(deployment.directory, 'tempest')
    os.makedirs(workdir)
    conf_path = os.path.join(workdir, 'tempest.conf')
    tempest_fixture.write_config(conf_path, tempest_fixture.config(
        deployment.keystone, workdir, deployment.files,
        alternate_endpoint='image_remote'))
    regex = os.environ.get(REGEX_ENV) or tempest_fixture.TEST_REGEX

    started = time.monotonic()
    results = tempest_fixture.run(tempest_venv, workdir, conf_path,
                                  regex=regex)
    seconds = time.monotonic() - started

    entries = tempest_expectations.load(EXPECTED_FAILURES)
    if regex != tempest_fixture.TEST_REGEX:
        # A narrowed run judges only the entries it could have hit.
        ran = [r['id'] for r in results]
        entries = [e for e in entries
                   if any(e.matches(test_id) for test_id in ran)]
    verdict = tempest_expectations.judge(results, entries)
    summary = '%s; %ds' % (verdict.summary(), seconds)
    request.node.user_properties.append(('tempest-summary', summary))
    print(summary)
    if not verdict.ok:
        pytest.fail('%s\n\n(tempest.conf, tempest.log, results.subunit and '
                    'the services\' logs are in %s; set %s=1 to keep them)'
                    % (verdict.report(), deployment.directory,
                       server_lib.KEEP_TMP_ENV), pytrace=False)
