"""A real Keystone on loopback, for the Keystone-flavor functional tests.

    keystone = Keystone.start()       # installs on first use (cached)
    keystone.register_image_endpoint('http://127.0.0.1:PORT')
    alice = keystone.create_user('alice', project='alpha', role='member')
    token = keystone.token(alice)
    keystone.stop()

Keystone is installed from PyPI (``pip install keystone`` plus gunicorn)
into a virtualenv of its own under ``$GLANCE_TEST_KEYSTONE_CACHE`` (default
``~/.cache/glance-test-keystone``), once per Python version and package
spec; the installed version keys a template of a bootstrapped database and
its fernet and credential keys, so a rerun only copies files and starts the
server (a few seconds instead of about three minutes).

It runs with SQLite in WAL mode with a busy timeout, as one gunicorn
process with one thread (several SQLite writers answer "database is
locked"), with ``[identity] password_hash_rounds = 4`` so that creating
users and issuing tokens stays cheap.

Environment:
    GLANCE_TEST_KEYSTONE_CACHE     cache directory
    GLANCE_TEST_KEYSTONE_SPEC      pip requirement (default "keystone")
    GLANCE_TEST_REQUIRE_ALL_DBS=1  a failed install fails the tests
                                   instead of skipping them (CI sets it)

To pick up a newer Keystone release, remove the cache directory.
"""

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import requests

from glance.tests.functional import server as server_lib

CACHE_ENV = 'GLANCE_TEST_KEYSTONE_CACHE'
SPEC_ENV = 'GLANCE_TEST_KEYSTONE_SPEC'

ADMIN_PASSWORD = 'keystone-admin-secret'
USER_PASSWORD = 'glance-test-secret'
REGION = 'RegionOne'
INSTALL_TIMEOUT = 900
START_TIMEOUT = 60


class KeystoneUnavailable(Exception):
    """Keystone could not be installed or set up here."""


def cache_dir():
    return os.path.expanduser(os.environ.get(
        CACHE_ENV, os.path.join('~', '.cache', 'glance-test-keystone')))


def _spec():
    return os.environ.get(SPEC_ENV, 'keystone')


def _venv_name():
    safe = ''.join(c if c.isalnum() else '_' for c in _spec())
    return 'venv-py%d.%d-%s' % (sys.version_info[:2] + (safe,))


@contextlib.contextmanager
def _locked(path):
    """An exclusive lock between pytest-xdist workers (and reruns)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _run(args, timeout, env=None, what=None):
    result = subprocess.run(args, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            timeout=timeout, env=env,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise KeystoneUnavailable('%s failed (%d):\n%s'
                                  % (what or ' '.join(args),
                                     result.returncode, result.stdout[-4000:]))
    return result.stdout


def install():
    """The virtualenv with Keystone; returns (venv path, version)."""
    root = cache_dir()
    venv = os.path.join(root, _venv_name())
    marker = os.path.join(venv, 'glance-test-installed.json')
    with _locked(os.path.join(root, 'install.lock')):
        if not os.path.exists(marker):
            # No marker: nothing or a half-done install; start afresh.
            shutil.rmtree(venv, ignore_errors=True)
            started = time.monotonic()
            _run([sys.executable, '-m', 'venv', venv], 300,
                 what='creating the Keystone virtualenv')
            python = os.path.join(venv, 'bin', 'python')
            _run([python, '-m', 'pip', 'install', '--quiet',
                  '--disable-pip-version-check', _spec(), 'gunicorn'],
                 INSTALL_TIMEOUT, what='pip install %s gunicorn' % _spec())
            version = _run([python, '-c',
                            'from importlib import metadata; '
                            'print(metadata.version("keystone"))'],
                           60).strip()
            with open(marker, 'w') as f:
                json.dump({'keystone': version, 'spec': _spec(),
                           'seconds': round(time.monotonic() - started)},
                          f)
        with open(marker) as f:
            return venv, json.load(f)['keystone']


def _write_conf(directory, port=None):
    db = os.path.join(directory, 'keystone.db')
    conf = os.path.join(directory, 'keystone.conf')
    with open(conf, 'w') as f:
        f.write('\n'.join([
            '[DEFAULT]',
            'use_stderr = true',
            '[database]',
            'connection = sqlite:///%s?timeout=30' % db,
            '[identity]',
            'password_hash_rounds = 4',
            '[token]',
            'provider = fernet',
            '[fernet_tokens]',
            'key_repository = %s' % os.path.join(directory, 'fernet-keys'),
            '[fernet_receipts]',
            'key_repository = %s' % os.path.join(directory, 'fernet-keys'),
            '[credential]',
            'key_repository = %s' % os.path.join(directory,
                                                 'credential-keys'),
            '[cache]',
            'enabled = true',
            'backend = dogpile.cache.memory',
            '',
        ]))
    return conf, db


def template(venv, version):
    """A bootstrapped database and keys for this Keystone version."""
    root = cache_dir()
    directory = os.path.join(root, 'template-%s' % version)
    marker = os.path.join(directory, 'ready')
    with _locked(os.path.join(root, 'template.lock')):
        if os.path.exists(marker):
            return directory
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        conf, db = _write_conf(directory)
        manage = [os.path.join(venv, 'bin', 'keystone-manage'),
                  '--config-file', conf]
        uid, gid = str(os.getuid()), str(os.getgid())
        _run(manage + ['db_sync'], 600, what='keystone-manage db_sync')
        _run(manage + ['fernet_setup', '--keystone-user', uid,
                       '--keystone-group', gid], 120,
             what='keystone-manage fernet_setup')
        _run(manage + ['credential_setup', '--keystone-user', uid,
                       '--keystone-group', gid], 120,
             what='keystone-manage credential_setup')
        # The endpoint URLs are rewritten for each run's port.
        _run(manage + ['bootstrap',
                       '--bootstrap-password', ADMIN_PASSWORD,
                       '--bootstrap-admin-url', 'http://127.0.0.1:1/v3',
                       '--bootstrap-public-url', 'http://127.0.0.1:1/v3',
                       '--bootstrap-internal-url', 'http://127.0.0.1:1/v3',
                       '--bootstrap-region-id', REGION], 300,
             what='keystone-manage bootstrap')
        with contextlib.closing(sqlite3.connect(db)) as conn:
            conn.execute('PRAGMA journal_mode=WAL')
            conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        open(marker, 'w').close()
        return directory


class Keystone:
    """One running Keystone, with helpers to populate it."""

    def __init__(self, venv, version, directory, port):
        self.venv = venv
        self.version = version
        self.directory = directory
        self.port = port
        self.url = 'http://127.0.0.1:%d/v3' % port
        self.process = None
        self.log_path = os.path.join(directory, 'keystone.log')
        self._admin_token = None
        self.projects = {}
        self.users = {}
        self.roles = {}

    @classmethod
    def start(cls):
        venv, version = install()
        source = template(venv, version)
        directory = tempfile.mkdtemp(prefix='glance-keystone-')
        for name in ('keystone.db', 'fernet-keys', 'credential-keys'):
            src = os.path.join(source, name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(directory, name))
                os.chmod(os.path.join(directory, name), 0o700)
            else:
                shutil.copy2(src, os.path.join(directory, name))
        keystone = cls(venv, version, directory, server_lib.free_port())
        try:
            keystone._spawn()
            keystone._prepare_catalog()
        except BaseException:
            keystone.cleanup()
            raise
        return keystone

    def _spawn(self):
        conf, _db = _write_conf(self.directory)
        env = dict(os.environ)
        env['OS_KEYSTONE_CONFIG_FILES'] = conf
        env.pop('OS_KEYSTONE_CONFIG_DIR', None)
        # Keystone parses sys.argv with oslo.config, which would choke on
        # gunicorn's arguments: a wrapper module hides them.
        with open(os.path.join(self.directory, 'keystone_app.py'),
                  'w') as f:
            f.write('import sys\n'
                    'sys.argv = sys.argv[:1]\n'
                    'from keystone.server import wsgi\n'
                    'application = wsgi.initialize_public_application()\n')
        self._log = open(self.log_path, 'ab')
        self.process = subprocess.Popen(
            [os.path.join(self.venv, 'bin', 'gunicorn'),
             '--bind', '127.0.0.1:%d' % self.port, '--workers', '1',
             '--worker-class', 'sync', '--timeout', '120',
             '--graceful-timeout', '5', '--no-control-socket',
             '--pythonpath', self.directory, 'keystone_app:application'],
            stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=self.directory, env=env,
            start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise KeystoneUnavailable('Keystone exited (%s):\n%s'
                                          % (self.process.returncode,
                                             self.log_text()[-4000:]))
            try:
                if requests.get(self.url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise KeystoneUnavailable('Keystone did not answer on %s:\n%s'
                                  % (self.url, self.log_text()[-4000:]))

    def log_text(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def stop(self):
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        if getattr(self, '_log', None):
            self._log.close()
            self._log = None

    def cleanup(self):
        try:
            self.stop()
        finally:
            if not os.environ.get(server_lib.KEEP_TMP_ENV):
                shutil.rmtree(self.directory, ignore_errors=True)

    # -- REST helpers ----------------------------------------------------

    def token(self, user, project=None, password=USER_PASSWORD):
        """A project-scoped token for user (a name)."""
        project = project or self.users[user]['project']
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'},
                'password': password}}},
            'scope': {'project': {'name': project,
                                  'domain': {'id': 'default'}}}}}
        response = requests.post(self.url + '/auth/tokens', json=body,
                                 timeout=30)
        if response.status_code != 201:
            raise KeystoneUnavailable('Token for %s: %d %s'
                                      % (user, response.status_code,
                                         response.text))
        return response.headers['X-Subject-Token']

    def system_token(self, user='admin', password=ADMIN_PASSWORD):
        """A system-scoped token (Keystone's bootstrap admin has the
        admin role on the system)."""
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': user, 'domain': {'id': 'default'},
                'password': password}}},
            'scope': {'system': {'all': True}}}}
        response = requests.post(self.url + '/auth/tokens', json=body,
                                 timeout=30)
        if response.status_code != 201:
            raise KeystoneUnavailable('System token for %s: %d %s'
                                      % (user, response.status_code,
                                         response.text))
        return response.headers['X-Subject-Token']

    def _admin(self, method, path, **kwargs):
        if self._admin_token is None:
            self._admin_token = self.token('admin', 'admin',
                                           password=ADMIN_PASSWORD)
        response = requests.request(
            method, self.url + path,
            headers={'X-Auth-Token': self._admin_token}, timeout=30,
            **kwargs)
        if response.status_code >= 400:
            raise KeystoneUnavailable('%s %s: %d %s'
                                      % (method, path, response.status_code,
                                         response.text))
        return response.json() if response.content else None

    def _prepare_catalog(self):
        for role in self._admin('GET', '/roles')['roles']:
            self.roles[role['name']] = role['id']
        for endpoint in self._admin('GET', '/endpoints')['endpoints']:
            self._admin('PATCH', '/endpoints/%s' % endpoint['id'],
                        json={'endpoint': {'url': self.url}})
        for project in self._admin('GET', '/projects')['projects']:
            self.projects[project['name']] = project['id']

    def create_project(self, name):
        if name not in self.projects:
            project = self._admin('POST', '/projects', json={'project': {
                'name': name, 'domain_id': 'default'}})['project']
            self.projects[name] = project['id']
        return self.projects[name]

    def create_user(self, name, project, role):
        """A user with role (and so the roles it implies) on project."""
        project_id = self.create_project(project)
        user = self._admin('POST', '/users', json={'user': {
            'name': name, 'domain_id': 'default',
            'password': USER_PASSWORD}})['user']
        self._admin('PUT', '/projects/%s/users/%s/roles/%s'
                    % (project_id, user['id'], self.roles[role]))
        self.users[name] = {'id': user['id'], 'project': project,
                            'project_id': project_id, 'role': role}
        return name

    def register_image_endpoint(self, url, service_type='image',
                                name='glance'):
        """url as the public, internal and admin endpoint of a service
        (another service_type, e.g. image_remote, for a second node)."""
        service = self._admin('POST', '/services', json={'service': {
            'name': name, 'type': service_type}})['service']
        for interface in ('public', 'internal', 'admin'):
            self._admin('POST', '/endpoints', json={'endpoint': {
                'service_id': service['id'], 'interface': interface,
                'url': url, 'region_id': REGION}})

    def authtoken_options(self, user='glance', password=USER_PASSWORD):
        """[keystone_authtoken] of a glance-api using this Keystone."""
        return {
            'www_authenticate_uri': self.url,
            'auth_url': self.url,
            'auth_type': 'password',
            'username': user,
            'password': password,
            'project_name': 'service',
            'user_domain_id': 'default',
            'project_domain_id': 'default',
            'region_name': REGION,
        }

    def auth_kwargs(self, user):
        """Password-auth arguments for keystoneauth / openstacksdk."""
        return {
            'auth_url': self.url,
            'username': user,
            'password': USER_PASSWORD,
            'project_name': self.users[user]['project'],
            'user_domain_id': 'default',
            'project_domain_id': 'default',
        }


def start_or_skip():
    """A running Keystone, or pytest.skip when it cannot be installed
    (pytest.fail under GLANCE_TEST_REQUIRE_ALL_DBS=1, as in CI)."""
    import pytest

    try:
        return Keystone.start()
    except (KeystoneUnavailable, subprocess.TimeoutExpired, OSError) as e:
        message = 'Keystone is unavailable: %s' % e
        if server_lib.require_all_dbs():
            pytest.fail(message)
        pytest.skip(message)
