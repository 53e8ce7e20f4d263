"""OpenStack's integration tests (Tempest) against our glance-api.

    venv = tempest_fixture.install()          # cached, keyed by versions
    files = tempest_fixture.ImageFiles(directory)   # http_image & co.
    tempest_fixture.write_config(path, keystone=..., ...)
    results = tempest_fixture.run(venv, workdir, conf_path, regex)

Tempest and glance-tempest-plugin are installed from PyPI, at the pinned
versions below, into a virtualenv of their own under
``$GLANCE_TEST_TEMPEST_CACHE`` (default ``~/.cache/glance-test-tempest``),
once per Python version and pair of versions; a rerun reuses it. To move
to newer releases, change the pins (the cache key changes with them).

Environment:
    GLANCE_TEST_TEMPEST_CACHE      cache directory
    GLANCE_TEST_REQUIRE_ALL_DBS=1  a failed install fails the test instead
                                   of skipping it (CI sets it)
"""

import functools
import http.server
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time

from glance.tests.functional import keystone_fixture

CACHE_ENV = 'GLANCE_TEST_TEMPEST_CACHE'

TEMPEST_VERSION = '47.0.0'
PLUGIN_VERSION = '0.17.0'
REQUIREMENTS = ('tempest==%s' % TEMPEST_VERSION,
                'glance-tempest-plugin==%s' % PLUGIN_VERSION)

# The image API tests of Tempest and every test of the plugin (its RBAC
# tests of images and metadefs).
TEST_REGEX = r'^(tempest\.api\.image\.|glance_tempest_plugin\.tests\.)'

INSTALL_TIMEOUT = 900
RUN_TIMEOUT = 1500
SUBUNIT_READER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              'tempest_subunit.py')


class TempestUnavailable(Exception):
    """Tempest could not be installed here."""


def cache_dir():
    return os.path.expanduser(os.environ.get(
        CACHE_ENV, os.path.join('~', '.cache', 'glance-test-tempest')))


def install():
    """The virtualenv with Tempest and the plugin; returns its path."""
    root = cache_dir()
    name = 'venv-py%d.%d-tempest-%s-plugin-%s' % (
        sys.version_info[:2] + (TEMPEST_VERSION, PLUGIN_VERSION))
    venv = os.path.join(root, name)
    marker = os.path.join(venv, 'glance-test-installed.json')
    with keystone_fixture._locked(os.path.join(root, 'install.lock')):
        if os.path.exists(marker):
            return venv
        # No marker: nothing or a half-done install; start afresh.
        shutil.rmtree(venv, ignore_errors=True)
        started = time.monotonic()
        try:
            keystone_fixture._run([sys.executable, '-m', 'venv', venv], 300,
                                  what='creating the Tempest virtualenv')
            keystone_fixture._run(
                [os.path.join(venv, 'bin', 'python'), '-m', 'pip', 'install',
                 '--quiet', '--disable-pip-version-check'] +
                list(REQUIREMENTS),
                INSTALL_TIMEOUT, what='pip install %s' % ' '.join(
                    REQUIREMENTS))
        except keystone_fixture.KeystoneUnavailable as e:
            raise TempestUnavailable(str(e))
        with open(marker, 'w') as f:
            json.dump({'requirements': REQUIREMENTS,
                       'seconds': round(time.monotonic() - started)}, f)
        return venv


# -- the files Tempest downloads (http_image, http_qcow2_image) ------------

def qcow2_image(virtual_size=1024 * 1024, cluster_bits=16):
    """A small, valid, empty qcow2 (version 2) image, as bytes.

    The header, one L1 table cluster, a refcount table and a refcount
    block: enough for any format inspector (and qemu-img) to accept it as
    a qcow2 of virtual_size bytes with no data, no backing file and no
    encryption. Built by hand so that no qemu-img is needed.
    """
    cluster = 1 << cluster_bits
    l1_entries = max(1, -(-virtual_size // (cluster * (cluster // 8))))
    header = struct.pack(
        '>4sIQIIQIIQQIIQ',
        b'QFI\xfb', 2,          # magic, version
        0, 0,                   # backing file offset and size
        cluster_bits,
        virtual_size,
        0,                      # no encryption
        l1_entries,
        3 * cluster,            # L1 table offset
        cluster,                # refcount table offset
        1,                      # refcount table clusters
        0, 0)                   # no snapshots
    image = bytearray(4 * cluster)
    image[:len(header)] = header
    # The refcount table points at the refcount block (cluster 2), which
    # counts the four clusters in use once each (16-bit counts).
    image[cluster:cluster + 8] = struct.pack('>Q', 2 * cluster)
    for index in range(4):
        offset = 2 * cluster + 2 * index
        image[offset:offset + 2] = struct.pack('>H', 1)
    return bytes(image)


class _FileHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass


class ImageFiles:
    """A static web server on loopback for the images Tempest fetches:
    GET and HEAD with Content-Length, as the http store and web-download
    need."""

    HTTP_IMAGE = 'cirros-like.img'
    QCOW2_IMAGE = 'disk.qcow2'

    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, self.HTTP_IMAGE), 'wb') as f:
            # Not a real disk: the location tests only hash its bytes.
            f.write(b'glance tempest http image\n' * 4096)
        with open(os.path.join(directory, self.QCOW2_IMAGE), 'wb') as f:
            f.write(qcow2_image())
        handler = functools.partial(_FileHandler, directory=directory)
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                     handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, name):
        return 'http://127.0.0.1:%d/%s' % (self.port, name)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# -- tempest.conf ------------------------------------------------------------

def _ini(sections):
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        for key, value in options.items():
            if isinstance(value, bool):
                value = 'true' if value else 'false'
            lines.append('%s = %s' % (key, value))
        lines.append('')
    return '\n'.join(lines)


def config(keystone, workdir, files, alternate_endpoint=None,
           features=None):
    """The sections of tempest.conf for our deployment (a dict).

    features overrides [image-feature-enabled] flags; the defaults say
    what the deployment of test_tempest.py really supports.
    """
    image_features = {
        'api_v2': True,
        'import_image': True,
        'os_glance_reserved': True,
        'manage_locations': True,       # show_multiple_locations
        'http_store_enabled': True,     # the "web" store
        'do_secure_hash': True,
        'image_conversion': False,
        'image_format_enforcement': True,
        'store_weight_enabled': True,
    }
    image_features.update(features or {})
    image = {
        'http_image': files.url(files.HTTP_IMAGE),
        'http_qcow2_image': files.url(files.QCOW2_IMAGE),
        'image_caching_enabled': True,  # as the gate; see the list
        'hashing_algorithm': 'sha512',
        'build_timeout': 60,
        'build_interval': 1,
    }
    if alternate_endpoint:
        image['alternate_image_endpoint'] = alternate_endpoint
    return {
        'DEFAULT': {
            'log_dir': workdir,
            'log_file': 'tempest.log',
        },
        'auth': {
            'use_dynamic_credentials': True,
            'admin_username': 'admin',
            'admin_password': keystone_fixture.ADMIN_PASSWORD,
            'admin_project_name': 'admin',
            'admin_domain_name': 'Default',
            'create_isolated_networks': False,
        },
        'identity': {
            'uri_v3': keystone.url,
            'auth_version': 'v3',
            'region': keystone_fixture.REGION,
            'v3_endpoint_type': 'public',
        },
        'identity-feature-enabled': {'api_v2': False},
        'service_available': {
            'glance': True,
            'nova': False,
            'cinder': False,
            'neutron': False,
            'swift': False,
            'horizon': False,
        },
        'image': image,
        'image-feature-enabled': image_features,
        'enforce_scope': {'glance': True},
        'glance_api': {'system_scope_supported': False},
        'validation': {'run_validation': False},
        'oslo_concurrency': {'lock_path': os.path.join(workdir, 'locks')},
    }


def write_config(path, sections):
    with open(path, 'w') as f:
        f.write(_ini(sections))


# -- running it --------------------------------------------------------------

def run(venv, workdir, conf_path, regex=TEST_REGEX, concurrency=2,
        timeout=RUN_TIMEOUT):
    """Run tempest; return its results, a list of dicts (id, status,
    reason). The subunit stream and Tempest's log stay in workdir."""
    subunit_path = os.path.join(workdir, 'results.subunit')
    env = dict(os.environ)
    for name in ('OS_TEST_PATH', 'OS_TOP_LEVEL', 'PYTHONPATH'):
        env.pop(name, None)
    env['TEMPEST_CONFIG_DIR'] = os.path.dirname(conf_path)
    env['TEMPEST_CONFIG'] = os.path.basename(conf_path)
    with open(subunit_path, 'wb') as out, \
            open(os.path.join(workdir, 'tempest-run.err'), 'wb') as err:
        process = subprocess.run(
            [os.path.join(venv, 'bin', 'tempest'), 'run',
             '--config-file', conf_path, '--regex', regex,
             '--concurrency', str(concurrency), '--subunit'],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir,
            env=env, timeout=timeout)
    with open(subunit_path, 'rb') as stream:
        parsed = subprocess.run(
            [os.path.join(venv, 'bin', 'python'), SUBUNIT_READER],
            stdin=stream, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=300, check=True)
    results = [json.loads(line) for line in parsed.stdout.splitlines()
               if line.strip()]
    if not results:
        with open(os.path.join(workdir, 'tempest-run.err'), 'rb') as f:
            tail = f.read()[-4000:].decode('utf-8', 'replace')
        raise RuntimeError('tempest run (exit %d) reported no test:\n%s'
                           % (process.returncode, tail))
    return results
