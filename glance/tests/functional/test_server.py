"""The glance-api program: start-up rules, configuration, signals, tools."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import requests

from glance.tests.functional import server as server_lib


def _run(args, env=None, timeout=60):
    full_env = dict(os.environ)
    full_env.pop('OS_GLANCE_CONFIG_FILES', None)
    full_env.update(env or {})
    return subprocess.run([sys.executable] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, env=full_env,
                          stdin=subprocess.DEVNULL)


def _write(path, text):
    with open(path, 'w') as f:
        f.write(textwrap.dedent(text))
    return path


def test_refuses_non_loopback_bind_without_keystone(tmp_path):
    config = _write(tmp_path / 'glance-api.conf', """\
        [DEFAULT]
        bind_host = 0.0.0.0
        bind_port = %d
        state_path = %s
        """ % (server_lib.free_port(), tmp_path / 'state'))
    result = _run(['-m', 'glance.cmd.api', '--config-file', str(config)])
    assert result.returncode != 0
    assert 'refusing to listen on 0.0.0.0 without Keystone' in result.stdout
    assert 'allow_non_loopback_bind' in result.stdout


def test_config_dir_is_read(tmp_path):
    conf_dir = tmp_path / 'conf.d'
    conf_dir.mkdir()
    port = server_lib.free_port()
    _write(conf_dir / 'glance-api.conf', """\
        [DEFAULT]
        bind_port = %d
        workers = 1
        state_path = %s
        limit_param_default = 2
        """ % (port, tmp_path / 'state'))
    env = dict(os.environ)
    env.pop('OS_GLANCE_CONFIG_FILES', None)
    process = subprocess.Popen(
        [sys.executable, '-m', 'glance.cmd.api', '--config-dir',
         str(conf_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        url = 'http://127.0.0.1:%d' % port
        deadline = time.monotonic() + server_lib.START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if requests.get(url + '/versions', timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        for _ in range(3):
            requests.post(url + '/v2/images', json={'name': 'c'}, timeout=5)
        page = requests.get(url + '/v2/images', timeout=5).json()
        # limit_param_default came from the directory's file.
        assert len(page['images']) == 2
        assert 'next' in page
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_sigterm_lets_in_flight_requests_finish():
    server = server_lib.start_or_skip('sqlite')
    try:
        image = server.client().create_image(
            name='in-flight', disk_format='raw',
            container_format='bare').json()
        data = os.urandom(2 * 1024 * 1024)
        sock = socket.create_connection(('127.0.0.1', server.port))
        sock.sendall(('PUT /v2/images/%s/file HTTP/1.1\r\n'
                      'Host: 127.0.0.1\r\n'
                      'Content-Type: application/octet-stream\r\n'
                      'Content-Length: %d\r\n\r\n'
                      % (image['id'], len(data))).encode())
        sock.sendall(data[:len(data) // 2])
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # The upload under way is still served to its end.
        sock.sendall(data[len(data) // 2:])
        reply = sock.recv(4096).decode('latin-1')
        sock.close()
        assert reply.startswith('HTTP/1.1 204'), reply
        server.process.wait(timeout=30)
        # No new connections after the stop.
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + '/versions', timeout=2)
    finally:
        server.cleanup()


def test_wsgi_module_is_an_application(tmp_path):
    config = _write(tmp_path / 'glance-api.conf', """\
        [DEFAULT]
        state_path = %s
        """ % (tmp_path / 'state'))
    script = textwrap.dedent("""\
        import webob
        from glance.wsgi import api
        response = webob.Request.blank('/versions').get_response(
            api.application)
        print(response.status_int, response.json['versions'][0]['status'])
        """)
    result = _run(['-c', script],
                  env={'OS_GLANCE_CONFIG_FILES': str(config)})
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().splitlines()[-1] == '200 CURRENT'


def test_glance_manage_db_commands(tmp_path):
    database = tmp_path / 'manage.sqlite'
    config = _write(tmp_path / 'glance-api.conf', """\
        [DEFAULT]
        state_path = %s
        [database]
        connection = sqlite:///%s
        """ % (tmp_path / 'state', database))
    manage = ['-m', 'glance.cmd.manage', '--config-file', str(config), 'db']

    result = _run(manage + ['check'])
    assert result.returncode == 3, result.stdout
    assert 'glance-manage db sync' in result.stdout

    result = _run(manage + ['version'])
    assert result.returncode == 0 and 'None' in result.stdout

    result = _run(manage + ['sync'])
    assert result.returncode == 0, result.stdout

    result = _run(manage + ['check'])
    assert result.returncode == 0, result.stdout

    result = _run(manage + ['version'])
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1] != 'None (empty database)'

    result = _run(manage + ['upgrade', 'head'])
    assert result.returncode == 0, result.stdout
