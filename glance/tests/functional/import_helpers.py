"""Helpers of the import tests: images, staging, waiting, a web server.

WebServer is a threaded http.server on 127.0.0.1 serving bytes from a
dict; it can also redirect (/redirect?to=URL), answer slowly
(/slow/<name>?seconds=N spreads the body over N seconds), send the body
chunked (/chunked/<name>) or only half of it (/short/<name>), and hang.
"""

import hashlib
import http.server
import os
import shutil
import subprocess
import threading
import time
import urllib.parse

OCTET = {'Content-Type': 'application/octet-stream'}
MiB = 1024 * 1024


def create_image(client, **values):
    body = {'name': 'import-test', 'disk_format': 'raw',
            'container_format': 'bare'}
    body.update(values)
    for key in [k for k, v in body.items() if v is None]:
        del body[key]
    response = client.create_image(**body)
    assert response.status_code == 201, response.text
    return response.json()


def stage(client, image_id, data, headers=None):
    all_headers = dict(OCTET)
    all_headers.update(headers or {})
    return client.put('/v2/images/%s/stage' % image_id, data=data,
                      headers=all_headers)


def import_image(client, image_id, method='glance-direct', headers=None,
                 method_extra=None, **extra):
    body = {'method': dict({'name': method}, **(method_extra or {}))}
    body.update(extra)
    return client.post('/v2/images/%s/import' % image_id, json=body,
                       headers=headers)


def show(client, image_id):
    response = client.get('/v2/images/%s' % image_id)
    assert response.status_code == 200, response.text
    return response.json()


def tasks_of(client, image_id):
    response = client.get('/v2/images/%s/tasks' % image_id)
    assert response.status_code == 200, response.text
    return response.json()['tasks']


def wait_task(client, image_id, timeout=30, count=1):
    """The newest task of the image once count tasks have finished."""
    deadline = time.monotonic() + timeout
    while True:
        tasks = tasks_of(client, image_id)
        done = [t for t in tasks if t['status'] in ('success', 'failure')]
        if len(done) >= count and len(done) == len(tasks):
            return tasks[0]
        if time.monotonic() > deadline:
            raise AssertionError('tasks of %s did not finish: %s'
                                 % (image_id, tasks))
        time.sleep(0.05)


def wait_status(client, image_id, statuses, timeout=30):
    if isinstance(statuses, str):
        statuses = (statuses,)
    deadline = time.monotonic() + timeout
    while True:
        image = show(client, image_id)
        if image['status'] in statuses:
            return image
        if time.monotonic() > deadline:
            raise AssertionError('image %s stayed %s' % (image_id,
                                                         image['status']))
        time.sleep(0.05)


def hashes(data):
    return (hashlib.md5(data).hexdigest(),
            hashlib.sha512(data).hexdigest())


def staging_files(server, image_id, multistore=True):
    """Files of the image in the server's staging area."""
    directory = os.path.join(server.state_path, 'staging')
    if not os.path.isdir(directory):
        return []
    return [n for n in os.listdir(directory) if n.startswith(image_id)]


def store_files(server, image_id):
    found = []
    for root, _dirs, files in os.walk(os.path.join(server.state_path,
                                                   'images')):
        found += [os.path.join(root, f) for f in files
                  if f.startswith(image_id)]
    return found


# -- real disk images ------------------------------------------------

def have_qemu_img():
    return shutil.which('qemu-img') is not None


def qemu_img(*args):
    subprocess.run(('qemu-img',) + args, check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def make_qcow2(directory, name='disk.qcow2', size='4M', payload=b'',
               backing=None):
    """A real qcow2 made by qemu-img (optionally with some data in it)."""
    path = os.path.join(directory, name)
    if payload:
        raw = path + '.raw'
        with open(raw, 'wb') as f:
            f.write(payload)
            f.truncate(_bytes(size))
        qemu_img('convert', '-f', 'raw', '-O', 'qcow2', raw, path)
        os.unlink(raw)
    elif backing:
        qemu_img('create', '-f', 'qcow2', '-b', backing, '-F', 'raw', path,
                 size)
    else:
        qemu_img('create', '-f', 'qcow2', path, size)
    with open(path, 'rb') as f:
        return f.read()


def _bytes(size):
    units = {'K': 1024, 'M': MiB, 'G': 1024 * MiB}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units \
        else int(size)


# -- a web server ----------------------------------------------------

class WebServer:
    def __init__(self, host='127.0.0.1'):
        self.files = {}
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                # Size only (glance_store's http store asks this way).
                path = urllib.parse.urlsplit(self.path).path
                outer.requests.append('HEAD ' + self.path)
                mode, _, rest = path[1:].partition('/')
                if mode in ('slow', 'chunked', 'short'):
                    path = '/' + rest
                data = outer.files.get(path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()

            def do_GET(self):
                parsed = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parsed.query)
                outer.requests.append(self.path)
                if parsed.path == '/redirect':
                    self.send_response(302)
                    self.send_header('Location', query['to'][0])
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                mode, _, rest = parsed.path[1:].partition('/')
                if mode not in ('slow', 'chunked', 'short'):
                    mode, rest = None, parsed.path[1:]
                data = outer.files.get('/' + rest)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header('Content-Type', 'application/octet-stream')
                if mode == 'chunked':
                    # No Content-Length: the body in chunks of odd sizes.
                    self.send_header('Transfer-Encoding', 'chunked')
                    self.end_headers()
                    for i in range(0, len(data), 100003):
                        part = data[i:i + 100003]
                        self.wfile.write(b'%x\r\n%s\r\n' % (len(part), part))
                    self.wfile.write(b'0\r\n\r\n')
                    return
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                if mode == 'short':
                    # Half the body, then the connection closes.
                    self.wfile.write(data[:len(data) // 2])
                    self.close_connection = True
                    return
                if mode != 'slow':
                    self.wfile.write(data)
                    return
                seconds = float(query.get('seconds', ['3'])[0])
                pieces = 30
                step = max(1, len(data) // pieces)
                for i in range(0, len(data), step):
                    try:
                        self.wfile.write(data[i:i + step])
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(seconds / pieces)

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = host
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, path, host=None):
        return 'http://%s:%d%s' % (host or self.host, self.port, path)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
