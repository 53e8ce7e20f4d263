"""A real glance-api process on loopback, for functional tests.

    server = Server('postgresql', options={'DEFAULT': {'image_tag_quota': 3}})
    server.start()          # or start_or_skip('postgresql', options=...)
    client = server.client(project_id='p1', roles='member,reader')
    response = client.create_image(name='x')       # a requests.Response
    response = client.patch_image(response.json()['id'],
                                  [{'op': 'add', 'path': '/a', 'value': 'b'}])
    server.cleanup()        # stop (SIGTERM), drop the database, rm -r

Each Server gets its own temporary directory (configuration file, state
path, log file), a loopback port free at the time it is picked, and, for
PostgreSQL and MySQL/MariaDB, a database of its own named glance_<random>
that is created empty, brought to head with ``glance-manage db sync`` and
dropped at teardown. Nothing is shared between servers, so tests may run in
parallel under pytest-xdist.

Database servers are found through environment variables:

    GLANCE_TEST_POSTGRESQL_URL   e.g. postgresql+psycopg2://postgres@127.0.0.1/
    GLANCE_TEST_MYSQL_URL        e.g. mysql+pymysql://root@127.0.0.1/

When one is unset or its server cannot be reached, the tests on that
backend are skipped, unless GLANCE_TEST_REQUIRE_ALL_DBS=1, when they fail.
Set GLANCE_TEST_KEEP_TMP=1 to keep the temporary directories.
"""

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests

BACKENDS = ('sqlite', 'postgresql', 'mysql')
DB_URL_ENV = {'postgresql': 'GLANCE_TEST_POSTGRESQL_URL',
              'mysql': 'GLANCE_TEST_MYSQL_URL'}
REQUIRE_ALL_ENV = 'GLANCE_TEST_REQUIRE_ALL_DBS'
KEEP_TMP_ENV = 'GLANCE_TEST_KEEP_TMP'

START_TIMEOUT = 30
STOP_TIMEOUT = 15

PATCH_21 = 'application/openstack-images-v2.1-json-patch'
PATCH_20 = 'application/openstack-images-v2.0-json-patch'

# Ports are picked below the Linux ephemeral range (32768-60999) so that
# they cannot clash with the client side of outgoing connections, and each
# pytest-xdist worker draws from a range of its own.
_PORT_LOW, _PORT_HIGH = 20000, 32000
_PORT_SLICES = 16


class BackendUnavailable(Exception):
    """The database server of a backend is not configured or not up."""


class ServerError(Exception):
    """glance-api did not start, or did not stop."""


def require_all_dbs():
    return os.environ.get(REQUIRE_ALL_ENV, '').lower() in ('1', 'true',
                                                           'yes')


def _worker_index():
    worker = os.environ.get('PYTEST_XDIST_WORKER', 'gw0')
    digits = ''.join(c for c in worker if c.isdigit())
    return int(digits or 0) % _PORT_SLICES


def _port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Nothing may be listening either (SO_REUSEADDR lets bind pass
        # while only TIME_WAIT sockets hold the port).
        sock.settimeout(0.2)
        return sock.connect_ex(('127.0.0.1', port)) != 0


_picked = set()


def free_port():
    """A loopback port nobody listens on, from this worker's range."""
    size = (_PORT_HIGH - _PORT_LOW) // _PORT_SLICES
    low = _PORT_LOW + _worker_index() * size
    candidates = list(range(low, low + size))
    random.shuffle(candidates)
    for port in candidates:
        if port not in _picked and _port_is_free(port):
            _picked.add(port)
            return port
    raise ServerError('No free port in %d-%d' % (low, low + size - 1))


# -- databases ---------------------------------------------------------

def _admin_url(backend):
    """The server URL (no database) of a backend, or BackendUnavailable."""
    import sqlalchemy as sa

    env = DB_URL_ENV[backend]
    raw = os.environ.get(env)
    if not raw:
        raise BackendUnavailable('%s is not set' % env)
    return sa.engine.make_url(raw)


def _admin_engine(url):
    import sqlalchemy as sa

    maintenance = 'postgres' if url.get_backend_name() == 'postgresql' \
        else None
    return sa.create_engine(url.set(database=maintenance),
                            isolation_level='AUTOCOMMIT',
                            poolclass=sa.pool.NullPool,
                            connect_args={'connect_timeout': 5})


class Database:
    """A database of its own for one server."""

    def __init__(self, backend, directory):
        self.backend = backend
        self.directory = directory
        self.name = None
        self._url = None

    def create(self):
        """Create the database; return its SQLAlchemy URL string."""
        if self.backend == 'sqlite':
            return 'sqlite:///' + os.path.join(self.directory,
                                               'glance.sqlite')
        import sqlalchemy as sa

        url = _admin_url(self.backend)
        name = 'glance_%s' % uuid.uuid4().hex[:16]
        try:
            engine = _admin_engine(url)
            with engine.connect() as conn:
                if self.backend == 'mysql':
                    # As an operator would: the server's default
                    # collation of utf8mb4 (case-insensitive).
                    conn.execute(sa.text('CREATE DATABASE %s CHARACTER '
                                         'SET utf8mb4' % name))
                else:
                    conn.execute(sa.text("CREATE DATABASE %s ENCODING "
                                         "'UTF8' TEMPLATE template0"
                                         % name))
            engine.dispose()
        except sa.exc.OperationalError as e:
            raise BackendUnavailable('%s server at %s is unreachable: %s'
                                     % (self.backend,
                                        url.render_as_string(),
                                        str(e).splitlines()[0]))
        self.name = name
        self._url = url
        db_url = url.set(database=name)
        if self.backend == 'mysql':
            db_url = db_url.update_query_dict({'charset': 'utf8mb4'})
        return db_url.render_as_string(hide_password=False)

    def drop(self):
        if self.name is None:
            return
        import sqlalchemy as sa

        engine = _admin_engine(self._url)
        try:
            with engine.connect() as conn:
                if self.backend == 'postgresql':
                    conn.execute(sa.text('DROP DATABASE IF EXISTS %s '
                                         'WITH (FORCE)' % self.name))
                else:
                    conn.execute(sa.text('DROP DATABASE IF EXISTS %s'
                                         % self.name))
        finally:
            engine.dispose()
        self.name = None


# -- HTTP --------------------------------------------------------------

def identity_headers(project_id=None, user_id=None, roles=None):
    """Headers of the no-Keystone flavor for the given identity."""
    headers = {}
    if project_id is not None:
        headers['X-Project-Id'] = project_id
        headers['X-User-Id'] = user_id or 'user-of-%s' % project_id
    elif user_id is not None:
        headers['X-User-Id'] = user_id
    if roles is not None:
        headers['X-Roles'] = roles if isinstance(roles, str) \
            else ','.join(roles)
    return headers


class Client:
    """requests against one server, as one identity.

    With no identity the request carries no identity headers and acts
    as the configured default (project "admin", roles admin, member,
    reader). Methods return requests.Response objects; nothing raises on
    an HTTP error status.
    """

    def __init__(self, base_url, project_id=None, user_id=None, roles=None,
                 timeout=30):
        self.base_url = base_url.rstrip('/')
        self.headers = identity_headers(project_id, user_id, roles)
        self.timeout = timeout
        self.session = requests.Session()

    def request(self, method, path, headers=None, **kwargs):
        all_headers = dict(self.headers)
        all_headers.setdefault('Accept', 'application/json')
        all_headers.update(headers or {})
        kwargs.setdefault('timeout', self.timeout)
        kwargs.setdefault('allow_redirects', False)
        return self.session.request(method, self.base_url + path,
                                    headers=all_headers, **kwargs)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, **kwargs):
        return self.request('POST', path, **kwargs)

    def put(self, path, **kwargs):
        return self.request('PUT', path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def patch(self, path, ops, media_type=PATCH_21, **kwargs):
        """PATCH with a JSON-patch document (a list of operations)."""
        headers = dict(kwargs.pop('headers', None) or {})
        headers['Content-Type'] = media_type
        return self.request('PATCH', path, json=ops, headers=headers,
                            **kwargs)

    # Shortcuts for the images API.

    def create_image(self, **values):
        return self.post('/v2/images', json=values)

    def patch_image(self, image_id, ops, **kwargs):
        return self.patch('/v2/images/%s' % image_id, ops, **kwargs)

    def close(self):
        self.session.close()


# -- the server --------------------------------------------------------

def _ini(sections):
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for key, value in options.items():
            if isinstance(value, bool):
                value = 'true' if value else 'false'
            elif isinstance(value, (list, tuple)):
                value = ','.join(str(v) for v in value)
            lines.append('%s = %s' % (key, value))
        lines.append('')
    return '\n'.join(lines)


class Server:
    """One glance-api process, its configuration, state and database."""

    def __init__(self, backend='sqlite', options=None, workers=1, threads=4,
                 port=None, env=None):
        if backend not in BACKENDS:
            raise ValueError('Unknown backend %s' % backend)
        self.backend = backend
        self.options = options or {}
        self.workers = workers
        self.threads = threads
        self.port = port
        # Extra environment of the process (e.g. PYTHONPATH for plugins).
        self.env = dict(env or {})
        self.host = '127.0.0.1'
        self.directory = None
        self.state_path = None
        self.config_path = None
        self.log_path = None
        self.db_url = None
        self.process = None
        self._database = None
        self._log_file = None

    @property
    def url(self):
        return 'http://%s:%d' % (self.host, self.port)

    # -- set-up --------------------------------------------------------

    def _write_config(self):
        sections = {
            'DEFAULT': {
                'bind_host': self.host,
                'bind_port': self.port,
                'workers': self.workers,
                'threads': self.threads,
                'state_path': self.state_path,
                'graceful_shutdown_timeout': 5,
            },
            'database': {'connection': self.db_url},
        }
        for section, options in self.options.items():
            sections.setdefault(section, {}).update(options)
        with open(self.config_path, 'w') as f:
            f.write(_ini(sections))

    def _run_manage(self, *args):
        result = subprocess.run(
            [sys.executable, '-m', 'glance.cmd.manage',
             '--config-file', self.config_path] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=120)
        if result.returncode != 0:
            raise ServerError('glance-manage %s failed (%d):\n%s'
                              % (' '.join(args), result.returncode,
                                 result.stdout))
        return result.stdout

    def prepare(self):
        """Directory, port, database and configuration; no process."""
        self.directory = tempfile.mkdtemp(prefix='glance-functional-')
        self.state_path = os.path.join(self.directory, 'state')
        os.makedirs(self.state_path)
        self.config_path = os.path.join(self.directory, 'glance-api.conf')
        self.log_path = os.path.join(self.directory, 'glance-api.log')
        if self.port is None:
            self.port = free_port()
        self._database = Database(self.backend, self.directory)
        self.db_url = self._database.create()
        self._write_config()
        if self.backend != 'sqlite':
            self._run_manage('db', 'sync')

    def start(self):
        """Prepare (first time) and start the process; wait until it
        answers GET /versions."""
        if self.directory is None:
            try:
                self.prepare()
            except BaseException:
                self.cleanup()
                raise
        self._spawn()
        return self

    def _spawn(self):
        # A server just stopped or killed may hold the port a moment more
        # (a worker not yet reaped).
        deadline = time.monotonic() + STOP_TIMEOUT
        while not _port_is_free(self.port):
            if time.monotonic() > deadline:
                raise ServerError('Port %d is already in use' % self.port)
            time.sleep(0.1)
        self._log_file = open(self.log_path, 'ab')
        env = dict(os.environ)
        env.pop('OS_GLANCE_CONFIG_FILES', None)
        env.update(self.env)
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'glance.cmd.api',
             '--config-file', self.config_path],
            stdout=self._log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=self.directory, env=env,
            start_new_session=True)
        _running.add(self.process)
        self._wait_until_up()

    def _wait_until_up(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_log()
                raise ServerError(
                    'glance-api exited with %s before answering; log:\n%s'
                    % (self.process.returncode, self.log_text()))
            try:
                response = requests.get(self.url + '/versions', timeout=2)
                if response.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise ServerError('glance-api did not answer GET /versions on %s '
                          'within %ds; log:\n%s'
                          % (self.url, START_TIMEOUT, self.log_text()))

    # -- teardown ------------------------------------------------------

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_TIMEOUT seconds."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # The whole session: master and its workers.
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=STOP_TIMEOUT)
        _running.discard(process)
        self._close_log()

    def kill(self):
        """SIGKILL the whole process group at once (a crash), no wait
        for anything to finish."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=STOP_TIMEOUT)
        _running.discard(process)
        self._close_log()

    def restart(self):
        """Stop and start again on the same port, config and database."""
        self.stop()
        self._spawn()
        return self

    def cleanup(self):
        """Stop, drop the database and remove the temporary directory."""
        try:
            self.stop()
        finally:
            if self._database is not None:
                self._database.drop()
                self._database = None
            if self.directory and not os.environ.get(KEEP_TMP_ENV):
                shutil.rmtree(self.directory, ignore_errors=True)

    def cleanup_in_background(self):
        """cleanup() in a thread: a graceful stop takes gunicorn about
        three seconds, which the caller need not wait for. The port stays
        taken until the process is gone (a later start on the same port
        waits for it); wait_for_cleanups() joins every such thread."""
        thread = threading.Thread(target=self._background_cleanup,
                                  name='cleanup-%s' % self.port)
        with _cleanups_lock:
            _cleanups.append(thread)
        thread.start()

    def _background_cleanup(self):
        try:
            self.cleanup()
        except Exception as e:  # reported, not raised: nobody would catch
            sys.stderr.write('glance-api on port %s: cleanup failed: %s\n'
                             % (self.port, e))

    def _close_log(self):
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # -- use -----------------------------------------------------------

    def log_text(self):
        if not self.log_path or not os.path.exists(self.log_path):
            return ''
        with open(self.log_path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def log_errors(self):
        """The log, if it tells of an error of the service (a traceback
        or an ERROR of a glance module); '' otherwise."""
        text = self.log_text()
        if 'Traceback' in text or ' ERROR glance' in text:
            return text
        return ''

    def client(self, project_id=None, user_id=None, roles=None):
        return Client(self.url, project_id=project_id, user_id=user_id,
                      roles=roles)

    def request(self, method, path, project_id=None, roles=None, **kwargs):
        """One JSON call; identity headers only if project_id/roles."""
        client = self.client(project_id=project_id, roles=roles)
        try:
            return client.request(method, path, **kwargs)
        finally:
            client.close()


_cleanups = []
_cleanups_lock = threading.Lock()
# Processes not stopped yet: a test run that ends early (pytest -x, ^C)
# skips the teardowns, and servers in sessions of their own would live on.
_running = set()


@atexit.register
def _kill_leftovers():
    for process in list(_running):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass


def wait_for_cleanups(timeout=STOP_TIMEOUT * 2 + 30):
    """Join the threads of cleanup_in_background()."""
    with _cleanups_lock:
        threads, _cleanups[:] = list(_cleanups), []
    for thread in threads:
        thread.join(timeout)


def start_or_skip(backend, **kwargs):
    """A started Server, or pytest.skip when its database is unavailable
    (pytest.fail under GLANCE_TEST_REQUIRE_ALL_DBS=1)."""
    import pytest

    server = Server(backend, **kwargs)
    try:
        server.start()
    except BackendUnavailable as e:
        server.cleanup()
        if require_all_dbs():
            pytest.fail('%s backend required but unavailable: %s'
                        % (backend, e))
        pytest.skip('%s backend unavailable: %s' % (backend, e))
    return server
