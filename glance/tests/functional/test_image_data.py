"""Image data against a real glance-api process: upload and download.

PUT /v2/images/{id}/file with fixed-length and chunked bodies, GET with
every Range form, hashes compared with hashlib, and every way an upload
can fail: each failure must leave the image queued, with no checksum and
no bytes in the store, so that a retry works.
"""

import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests

from glance.tests.functional import server as server_lib

MiB = 1024 * 1024
OCTET = {'Content-Type': 'application/octet-stream'}

# The server of the "limits" fixture.
CAP = 2 * MiB
QUOTA = 3 * MiB


# -- helpers -----------------------------------------------------------

def data_of(size, seed=0):
    """size reproducible pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def create_image(client, **values):
    body = {'name': 'data-test', 'disk_format': 'raw',
            'container_format': 'bare'}
    body.update(values)
    for key in [k for k, v in body.items() if v is None]:
        del body[key]
    response = client.create_image(**body)
    assert response.status_code == 201, response.text
    return response.json()


def put_file(client, image_id, data, headers=None, **kwargs):
    all_headers = dict(OCTET)
    all_headers.update(headers or {})
    return client.put('/v2/images/%s/file' % image_id, data=data,
                      headers=all_headers, **kwargs)


def chunked(data, chunk_size=MiB):
    """A generator body: requests sends it with Transfer-Encoding: chunked
    (as python-glanceclient does, in 1 MiB chunks)."""
    def gen():
        for i in range(0, len(data), chunk_size):
            yield data[i:i + chunk_size]
    return gen()


def show(client, image_id):
    response = client.get('/v2/images/%s' % image_id)
    assert response.status_code == 200, response.text
    return response.json()


def wait_status(client, image_id, status, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        image = show(client, image_id)
        if image['status'] == status or time.monotonic() > deadline:
            return image
        time.sleep(0.05)


def store_dir(server):
    return os.path.join(server.state_path, 'images')


def files_of(server, image_id, directory=None):
    """Entries of a file store directory that belong to image_id."""
    directory = directory or store_dir(server)
    if not os.path.isdir(directory):
        return []
    return sorted(name for name in os.listdir(directory)
                  if name.startswith(image_id))


def assert_queued_and_clean(server, client, image_id):
    image = show(client, image_id)
    assert image['status'] == 'queued'
    assert image['checksum'] is None
    assert image['os_hash_value'] is None
    assert image['size'] is None
    assert 'os_glance_upload_host' not in image
    assert files_of(server, image_id) == []
    assert client.get('/v2/images/%s/file' % image_id).status_code == 204


def assert_active_with(client, image_id, data, algorithm='sha512'):
    image = show(client, image_id)
    assert image['status'] == 'active'
    assert image['size'] == len(data)
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    assert image['os_hash_algo'] == algorithm
    assert image['os_hash_value'] == hashlib.new(algorithm,
                                                 data).hexdigest()
    response = client.get('/v2/images/%s/file' % image_id)
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/octet-stream'
    assert int(response.headers['Content-Length']) == len(data)
    assert response.headers['Content-MD5'] == image['checksum']
    assert response.content == data
    return image


def open_upload(server, image_id, length, first_part, chunked_body=False,
                extra_headers=''):
    """A raw socket with a PUT /file under way: headers and first_part
    sent, the rest not."""
    sock = socket.create_connection((server.host, server.port), timeout=30)
    head = ('PUT /v2/images/%s/file HTTP/1.1\r\n'
            'Host: %s:%d\r\n'
            'Content-Type: application/octet-stream\r\n'
            '%s%s\r\n' % (image_id, server.host, server.port,
                          'Transfer-Encoding: chunked\r\n' if chunked_body
                          else 'Content-Length: %d\r\n' % length,
                          extra_headers))
    sock.sendall(head.encode('ascii'))
    if chunked_body:
        sock.sendall(b'%x\r\n' % len(first_part) + first_part + b'\r\n')
    else:
        sock.sendall(first_part)
    return sock


def read_status(sock):
    """The status code of the response on a raw socket."""
    buf = b''
    while b'\r\n' not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return int(buf.split(b' ', 2)[1])


# qemu-img makes the qcow2 data; without it (Debian: apt-get install
# qemu-utils) the tests that need such data skip.
needs_qemu_img = pytest.mark.skipif(
    shutil.which('qemu-img') is None,
    reason='qemu-img is not installed (Debian package qemu-utils)')


def qcow2_bytes(virtual_size='16M'):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'disk.qcow2')
        subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path,
                        virtual_size], check=True)
        with open(path, 'rb') as f:
            return f.read()


# -- fixtures ----------------------------------------------------------

@pytest.fixture
def client(api_server):
    c = api_server.client()
    yield c
    c.close()


@pytest.fixture(autouse=True)
def no_unexpected_errors(request):
    """Whatever a test does, the server never fails unexpectedly."""
    servers = [request.getfixturevalue(name)
               for name in ('api_server', 'api_server_each_db')
               if name in request.fixturenames]
    before = [len(server.log_text()) for server in servers]
    yield
    for server, start in zip(servers, before):
        new_log = server.log_text()[start:]
        assert 'Unexpected error' not in new_log, new_log
        assert 'Traceback' not in new_log, new_log


@pytest.fixture(scope='module')
def limits_server():
    """image_size_cap, user_storage_quota and sha256 multihash."""
    server = server_lib.start_or_skip('sqlite', options={'DEFAULT': {
        'image_size_cap': CAP,
        'user_storage_quota': str(QUOTA),
        'hashing_algorithm': 'sha256',
    }})
    yield server
    server.cleanup()


# -- uploads that work -------------------------------------------------

@pytest.mark.parametrize('size', [1, 65536, 4 * MiB, 5 * MiB + 17])
def test_fixed_length_upload_and_download(api_server, client, size):
    data = data_of(size, seed=size)
    image = create_image(client)
    response = put_file(client, image['id'], data)
    assert response.status_code == 204, response.text
    assert response.content == b''
    shown = assert_active_with(client, image['id'], data)
    assert shown['virtual_size'] == size
    assert files_of(api_server, image['id']) == [image['id']]
    with open(os.path.join(store_dir(api_server), image['id']), 'rb') as f:
        assert f.read() == data


@pytest.mark.parametrize('chunk_size', [MiB, 65537, 1])
def test_chunked_upload(api_server, client, chunk_size):
    size = 3 * MiB + 5 if chunk_size > 1 else 3000
    data = data_of(size, seed=chunk_size)
    image = create_image(client)
    response = put_file(client, image['id'], chunked(data, chunk_size))
    assert response.status_code == 204, response.text
    assert response.request.headers.get('Transfer-Encoding') == 'chunked'
    assert_active_with(client, image['id'], data)


def test_curl_upload_with_expect_100_continue(api_server, client,
                                              tmp_path):
    # curl sends "Expect: 100-continue" for bodies over 1 MiB and waits
    # for the interim response (a second, if it never comes).
    curl = shutil.which('curl')
    if curl is None:
        pytest.skip('curl is not installed')
    data = data_of(2 * MiB + 9, seed=8)
    path = tmp_path / 'disk.raw'
    path.write_bytes(data)
    image = create_image(client)
    url = '%s/v2/images/%s/file' % (api_server.url, image['id'])
    started = time.monotonic()
    result = subprocess.run(
        [curl, '-sS', '-v', '-o', '/dev/null', '-w', '%{http_code}',
         '-X', 'PUT', '-H', 'Content-Type: application/octet-stream',
         '-H', 'Expect: 100-continue', '--expect100-timeout', '10',
         '--data-binary', '@%s' % path, url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=60)
    assert result.stdout == '204', result.stderr
    assert '100 Continue' in result.stderr
    assert time.monotonic() - started < 10
    assert_active_with(client, image['id'], data)
    # And curl downloads it back, byte for byte.
    out = tmp_path / 'out.raw'
    result = subprocess.run([curl, '-sS', '-o', str(out), '-w',
                             '%{http_code}', url], stdout=subprocess.PIPE,
                            text=True, timeout=60)
    assert result.stdout == '200'
    assert out.read_bytes() == data


def test_empty_upload(client):
    image = create_image(client)
    response = put_file(client, image['id'], b'')
    assert response.status_code == 204, response.text
    shown = show(client, image['id'])
    assert shown['status'] == 'active'
    assert shown['size'] == 0
    assert shown['checksum'] == hashlib.md5(b'').hexdigest()
    assert shown['os_hash_value'] == hashlib.sha512(b'').hexdigest()


def test_declared_size_that_matches(client):
    data = data_of(MiB + 3)
    image = create_image(client)
    response = put_file(client, image['id'], chunked(data),
                        headers={'x-openstack-image-size': str(len(data))})
    assert response.status_code == 204, response.text
    assert_active_with(client, image['id'], data)


def test_declared_size_zero_counts_as_not_given(client):
    data = data_of(1000)
    image = create_image(client)
    response = put_file(client, image['id'], data,
                        headers={'x-openstack-image-size': '0'})
    assert response.status_code == 204, response.text
    assert_active_with(client, image['id'], data)


def test_sha256_multihash(limits_server):
    client = limits_server.client(project_id='hash-project',
                                  roles='member,reader')
    data = data_of(MiB + 1, seed=7)
    image = create_image(client)
    assert put_file(client, image['id'], data).status_code == 204
    shown = assert_active_with(client, image['id'], data,
                               algorithm='sha256')
    assert len(shown['os_hash_value']) == 64
    client.close()


def test_no_data_gives_204(client):
    image = create_image(client)
    response = client.get('/v2/images/%s/file' % image['id'])
    assert response.status_code == 204
    assert response.content == b''


def test_upload_wrong_content_type(client):
    image = create_image(client)
    response = put_file(client, image['id'], b'abc',
                        headers={'Content-Type': 'application/json'})
    assert response.status_code == 415
    assert show(client, image['id'])['status'] == 'queued'


def test_head_file_is_405(client):
    image = create_image(client)
    response = client.request('HEAD', '/v2/images/%s/file' % image['id'])
    assert response.status_code == 405
    assert set(response.headers['Allow'].replace(' ', '').split(',')) == \
        {'GET', 'PUT'}


# -- ranges ------------------------------------------------------------

@pytest.fixture(scope='module')
def ranged_image(api_server):
    client = api_server.client()
    data = data_of(2 * MiB + 1000, seed=99)
    image = create_image(client)
    assert put_file(client, image['id'], data).status_code == 204
    client.close()
    return image['id'], data


@pytest.mark.parametrize('header,part', [
    ('bytes=0-0', (0, 0)),
    ('bytes=10-19', (10, 19)),
    ('bytes=1048570-1048580', (1048570, 1048580)),
    ('bytes=2097000-', (2097000, None)),
    ('bytes=0-', (0, None)),
    ('bytes=-100', (-100, None)),
    ('bytes=-1', (-1, None)),
    # An end past the data is cut to the data.
    ('bytes=2097100-99999999', (2097100, None)),
    # A suffix longer than the data is the whole data.
    ('bytes=-99999999', (0, None)),
])
def test_range(client, ranged_image, header, part):
    image_id, data = ranged_image
    size = len(data)
    start, end = part
    if start < 0:
        start = size + start
    end = size - 1 if end is None else end
    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Range': header})
    assert response.status_code == 206, response.text
    assert response.content == data[start:end + 1]
    assert response.headers['Content-Range'] == \
        'bytes %d-%d/%d' % (start, end, size)
    assert int(response.headers['Content-Length']) == end - start + 1
    # The MD5 of the whole image, not of the part.
    assert response.headers['Content-MD5'] == hashlib.md5(data).hexdigest()


@pytest.mark.parametrize('header', [
    'bytes=%d-' % (2 * MiB + 1000),
    'bytes=%d-%d' % (2 * MiB + 1000, 2 * MiB + 2000),
    'bytes=-0',
    'bytes=20-10',
])
def test_range_not_satisfiable(client, ranged_image, header):
    image_id, data = ranged_image
    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Range': header})
    assert response.status_code == 416, response.text


@pytest.mark.parametrize('header', ['bytes=abc', 'bytes=1-x', 'bytes=',
                                    'items=0-5', 'bytes 0-5', 'bytes=5'])
def test_malformed_range(client, ranged_image, header):
    # "bad range -> 416", as the reference answers (webob finds no range).
    image_id, _data = ranged_image
    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Range': header})
    assert response.status_code == 416, response.text


@pytest.mark.parametrize('header', ['bytes=0-1,5-6', 'bytes=-5,0-1'])
def test_multiple_ranges_refused(client, ranged_image, header):
    image_id, _data = ranged_image
    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Range': header})
    assert response.status_code == 400


def test_legacy_content_range_request_header(client, ranged_image):
    image_id, data = ranged_image
    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Content-Range': 'bytes 100-199/%d'
                                   % len(data)})
    assert response.status_code == 206
    assert response.content == data[100:200]
    assert response.headers['Content-Range'] == 'bytes 100-199/%d' \
        % len(data)
    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Content-Range': 'bytes 5-/*'})
    assert response.status_code == 206
    assert response.content == data[5:]
    response = client.get('/v2/images/%s/file' % image_id,
                          headers={'Content-Range': 'bytes %d-%d/*'
                                   % (len(data), len(data) + 5)})
    assert response.status_code == 416


def test_range_on_image_without_data(client):
    image = create_image(client)
    response = client.get('/v2/images/%s/file' % image['id'],
                          headers={'Range': 'bytes=0-10'})
    assert response.status_code == 204


# -- uploads that fail -------------------------------------------------

@pytest.mark.parametrize('declared,body', [
    (1000, 1001),          # more data than declared
    (1001, 1000),          # less
    (MiB, 3 * MiB),        # much more: refused mid-stream
])
@pytest.mark.parametrize('use_chunks', [False, True])
def test_declared_size_mismatch(api_server, client, declared, body,
                                use_chunks):
    image = create_image(client)
    data = data_of(body)
    response = put_file(client, image['id'],
                        chunked(data) if use_chunks else data,
                        headers={'x-openstack-image-size': str(declared)})
    assert response.status_code == 400, response.text
    assert_queued_and_clean(api_server, client, image['id'])
    # A retry works.
    data = data_of(declared, seed=1)
    response = put_file(client, image['id'], data,
                        headers={'x-openstack-image-size': str(declared)})
    assert response.status_code == 204, response.text
    assert_active_with(client, image['id'], data)


@pytest.mark.parametrize('value', ['abc', '1.5', '-1', '0x10', ''])
def test_declared_size_not_a_number(api_server, client, value):
    image = create_image(client)
    response = put_file(client, image['id'], b'abcd',
                        headers={'x-openstack-image-size': value})
    assert response.status_code == 400, response.text
    assert_queued_and_clean(api_server, client, image['id'])


@pytest.mark.parametrize('use_chunks', [False, True])
def test_image_size_cap(limits_server, use_chunks):
    client = limits_server.client(project_id='cap-%s' % use_chunks,
                                  roles='member,reader')
    image = create_image(client)
    data = data_of(CAP + MiB)
    response = put_file(client, image['id'],
                        chunked(data) if use_chunks else data)
    assert response.status_code == 413, response.text
    assert_queued_and_clean(limits_server, client, image['id'])
    # One byte over the cap is refused too, exactly the cap is not.
    response = put_file(client, image['id'], data[:CAP + 1])
    assert response.status_code == 413
    assert_queued_and_clean(limits_server, client, image['id'])
    response = put_file(client, image['id'], data[:CAP])
    assert response.status_code == 204, response.text
    assert_active_with(client, image['id'], data[:CAP], algorithm='sha256')
    client.close()


def test_image_size_cap_with_declared_size(limits_server):
    client = limits_server.client(project_id='cap-declared',
                                  roles='member,reader')
    image = create_image(client)
    response = put_file(client, image['id'], chunked(data_of(CAP + 1)),
                        headers={'x-openstack-image-size': str(CAP + 1)})
    assert response.status_code == 413
    assert_queued_and_clean(limits_server, client, image['id'])
    client.close()


def test_user_storage_quota(limits_server):
    client = limits_server.client(project_id='quota-project',
                                  roles='member,reader')
    first, second = create_image(client), create_image(client)
    third = create_image(client)
    half = data_of(QUOTA // 2)
    assert put_file(client, first['id'], half).status_code == 204
    # Over what is left of the quota (but under the cap): refused.
    response = put_file(client, second['id'], data_of(QUOTA // 2 + 1))
    assert response.status_code == 413, response.text
    assert_queued_and_clean(limits_server, client, second['id'])
    response = put_file(client, second['id'], chunked(data_of(QUOTA // 2 + 1)))
    assert response.status_code == 413, response.text
    assert_queued_and_clean(limits_server, client, second['id'])
    # Exactly what is left: accepted; then nothing more.
    assert put_file(client, second['id'], half).status_code == 204
    response = put_file(client, third['id'], b'x')
    assert response.status_code == 413
    assert_queued_and_clean(limits_server, client, third['id'])
    # Another project has a quota of its own.
    other = limits_server.client(project_id='quota-other',
                                 roles='member,reader')
    image = create_image(other)
    assert put_file(other, image['id'], half).status_code == 204
    # Deleting an image gives its room back.
    assert client.delete('/v2/images/%s' % first['id']).status_code == 204
    response = put_file(client, third['id'], half)
    assert response.status_code == 204, response.text
    client.close()
    other.close()


@pytest.mark.parametrize('failure', ['conflict', 'size', 'not-found',
                                     'media-type'])
def test_connection_reusable_after_refused_upload(api_server, failure):
    # A refused upload's body is drained, so the kept-alive connection
    # serves the client's next request (keystoneauth and requests sessions
    # reuse it): gunicorn alone would close it after saying keep-alive.
    client = api_server.client()
    image = create_image(client)
    data = data_of(3 * MiB)
    image_id, headers, expected = image['id'], {}, 400
    if failure == 'conflict':
        assert put_file(client, image_id, b'x').status_code == 204
        expected = 409
    elif failure == 'size':
        headers = {'x-openstack-image-size': str(MiB)}
    elif failure == 'not-found':
        image_id, expected = str(uuid.uuid4()), 404
    else:
        headers, expected = {'Content-Type': 'text/plain'}, 415
    for body in (data, chunked(data)):
        response = put_file(client, image_id, body, headers=headers)
        assert response.status_code == expected, response.text
        # The same connection, at once.
        assert show(client, image['id'])['id'] == image['id']
        assert client.get('/v2/images?limit=1').status_code == 200
    client.close()


def test_upload_to_non_queued_image(api_server, client):
    data = data_of(1000)
    image = create_image(client)
    assert put_file(client, image['id'], data).status_code == 204
    response = put_file(client, image['id'], data_of(1000, seed=5))
    assert response.status_code == 409
    assert_active_with(client, image['id'], data)
    # Deactivated images are not queued either.
    url = '/v2/images/%s/actions/deactivate' % image['id']
    assert client.post(url).status_code == 204
    assert put_file(client, image['id'], data).status_code == 409
    assert files_of(api_server, image['id']) == [image['id']]


def test_upload_to_unknown_image(client):
    response = put_file(client, str(uuid.uuid4()), b'abc')
    assert response.status_code == 404


@pytest.mark.parametrize('missing', ['disk_format', 'container_format',
                                     'both'])
def test_upload_without_formats(api_server, client, missing):
    values = {'disk_format': 'raw', 'container_format': 'bare'}
    if missing == 'both':
        values = {'disk_format': None, 'container_format': None}
    else:
        values[missing] = None
    image = create_image(client, **values)
    response = put_file(client, image['id'], data_of(1000))
    assert response.status_code == 400, response.text
    assert_queued_and_clean(api_server, client, image['id'])
    # Setting the formats makes the upload possible.
    ops = [{'op': 'add', 'path': '/disk_format', 'value': 'raw'},
           {'op': 'add', 'path': '/container_format', 'value': 'bare'}]
    assert client.patch_image(image['id'], ops).status_code == 200
    data = data_of(1000)
    assert put_file(client, image['id'], data).status_code == 204
    assert_active_with(client, image['id'], data)


@needs_qemu_img
@pytest.mark.parametrize('use_chunks', [False, True])
def test_format_mismatch_leaves_nothing_behind(api_server, client,
                                               use_chunks):
    image = create_image(client, disk_format='qcow2')
    data = data_of(MiB + 100)
    response = put_file(client, image['id'],
                        chunked(data) if use_chunks else data)
    assert response.status_code == 415, response.text
    assert 'qcow2' in response.text
    # Unlike the reference: no checksum, no bytes in the store.
    assert_queued_and_clean(api_server, client, image['id'])
    assert show(client, image['id'])['virtual_size'] is None
    # A retry with real qcow2 data works, and its virtual size is read
    # from the header.
    qcow2 = qcow2_bytes('16M')
    response = put_file(client, image['id'],
                        chunked(qcow2, 65536) if use_chunks else qcow2)
    assert response.status_code == 204, response.text
    shown = assert_active_with(client, image['id'], qcow2)
    assert shown['virtual_size'] == 16 * MiB
    assert shown['disk_format'] == 'qcow2'


@pytest.mark.parametrize('disk_format', ['vmdk', 'iso', 'vhd', 'vhdx'])
def test_other_format_mismatches(api_server, client, disk_format):
    image = create_image(client, disk_format=disk_format)
    response = put_file(client, image['id'], data_of(MiB, seed=5))
    assert response.status_code == 415, response.text
    assert_queued_and_clean(api_server, client, image['id'])


@needs_qemu_img
def test_qcow2_with_backing_file_is_refused(api_server, client, tmp_path):
    base = tmp_path / 'base.qcow2'
    top = tmp_path / 'top.qcow2'
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', str(base),
                    '1M'], check=True)
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b',
                    str(base), '-F', 'qcow2', str(top)], check=True)
    image = create_image(client, disk_format='qcow2')
    response = put_file(client, image['id'], top.read_bytes())
    assert response.status_code == 400, response.text
    assert_queued_and_clean(api_server, client, image['id'])


@needs_qemu_img
def test_qcow2_data_is_accepted_as_raw(client):
    qcow2 = qcow2_bytes('1M')
    image = create_image(client, disk_format='raw')
    assert put_file(client, image['id'], qcow2).status_code == 204
    shown = assert_active_with(client, image['id'], qcow2)
    assert shown['virtual_size'] == len(qcow2)


@pytest.mark.parametrize('use_chunks', [False, True])
def test_client_disconnects_mid_upload(api_server, client, use_chunks):
    image = create_image(client)
    total = 4 * MiB
    data = data_of(total)
    sock = open_upload(api_server, image['id'], total, data[:total // 2],
                       chunked_body=use_chunks)
    try:
        assert wait_status(client, image['id'], 'saving')['status'] == \
            'saving'
    finally:
        sock.close()
    shown = wait_status(client, image['id'], 'queued')
    assert shown['status'] == 'queued'
    # Give the server's clean-up a moment after the status change.
    deadline = time.monotonic() + 5
    while files_of(api_server, image['id']) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    assert_queued_and_clean(api_server, client, image['id'])
    # A retry works.
    response = put_file(client, image['id'], data)
    assert response.status_code == 204, response.text
    assert_active_with(client, image['id'], data)


@pytest.fixture(scope='module')
def impatient_server():
    server = server_lib.start_or_skip('sqlite', options={'DEFAULT': {
        'data_inactivity_timeout': 2}})
    yield server
    server.cleanup()


@pytest.mark.parametrize('use_chunks', [False, True])
def test_client_stalls_mid_upload(impatient_server, use_chunks):
    # A client that stops sending without closing gets an answer after
    # data_inactivity_timeout, and the image is free for a retry.
    client = impatient_server.client()
    image = create_image(client)
    data = data_of(2 * MiB, seed=41)
    sock = open_upload(impatient_server, image['id'], len(data),
                       data[:MiB], chunked_body=use_chunks)
    started = time.monotonic()
    try:
        sock.settimeout(30)
        assert read_status(sock) == 400
        assert 2 <= time.monotonic() - started < 20
    finally:
        sock.close()
    wait_status(client, image['id'], 'queued')
    assert_queued_and_clean(impatient_server, client, image['id'])
    assert put_file(client, image['id'], data).status_code == 204
    assert_active_with(client, image['id'], data)
    client.close()


@pytest.mark.parametrize('bad_chunk', [b'zz\r\nabc\r\n',
                                       b'5\r\nabcdefgh\r\n',
                                       b'-1\r\n\r\n'])
def test_broken_chunked_body(api_server, client, bad_chunk):
    image = create_image(client)
    sock = open_upload(api_server, image['id'], None, b'x' * 1000,
                       chunked_body=True)
    try:
        sock.sendall(bad_chunk)
        assert read_status(sock) == 400
    finally:
        sock.close()
    wait_status(client, image['id'], 'queued')
    assert_queued_and_clean(api_server, client, image['id'])
    data = data_of(1000)
    assert put_file(client, image['id'], chunked(data)).status_code == 204
    assert_active_with(client, image['id'], data)


@pytest.mark.parametrize('size_line', [b'FFFFFFFFFFFFFFFFFFFF',
                                       b'%x' % (2 ** 40 + 1)])
def test_chunk_larger_than_the_size_cap(api_server, client, size_line):
    # A chunk no image may hold is refused when its size line arrives,
    # not after the server has waited for its data.
    image = create_image(client)
    sock = open_upload(api_server, image['id'], None, b'x' * 1000,
                       chunked_body=True)
    try:
        sock.settimeout(10)
        sock.sendall(size_line + b'\r\nabc')
        assert read_status(sock) == 400
    finally:
        sock.close()
    wait_status(client, image['id'], 'queued')
    assert_queued_and_clean(api_server, client, image['id'])


class _SharedReader:
    """One buffered reader of a raw socket for several responses in a
    row (http.client would close it after each)."""

    def __init__(self, sock):
        self._file = sock.makefile('rb')

    def makefile(self, *args, **kwargs):
        return self

    def read(self, *args):
        return self._file.read(*args)

    def readline(self, *args):
        return self._file.readline(*args)

    def readinto(self, buffer):
        return self._file.readinto(buffer)

    def close(self):
        pass


def read_response(reader, method='GET'):
    response = http.client.HTTPResponse(reader, method=method)
    response.begin()
    return response.status, response.read()


@pytest.mark.parametrize('framing', ['length', 'chunked', 'chunked-ext'])
def test_pipelined_request_after_upload(api_server, client, framing):
    # The next request may arrive in the same packets as the end of the
    # body: the server must find it where the body ends.
    data = data_of(2 * MiB + 3, seed=33)
    image = create_image(client)
    if framing == 'length':
        head, body = 'Content-Length: %d\r\n' % len(data), data
    else:
        extension = b';name="v"' if framing == 'chunked-ext' else b''
        trailer = b'X-Trailer: 1\r\n' if framing == 'chunked-ext' else b''
        head = 'Transfer-Encoding: chunked\r\n'
        body = b''.join(b'%x%s\r\n%s\r\n' % (len(part), extension, part)
                        for part in (data[:MiB], data[MiB:]))
        body += b'0\r\n' + trailer + b'\r\n'
    host = 'Host: %s:%d\r\n' % (api_server.host, api_server.port)
    put = ('PUT /v2/images/%s/file HTTP/1.1\r\n%s'
           'Content-Type: application/octet-stream\r\n%s\r\n'
           % (image['id'], host, head)).encode('ascii') + body
    get = ('GET /v2/images/%s HTTP/1.1\r\n%s\r\n'
           % (image['id'], host)).encode('ascii')
    sock = socket.create_connection((api_server.host, api_server.port),
                                    timeout=30)
    try:
        sock.sendall(put + get)
        reader = _SharedReader(sock)
        assert read_response(reader, 'PUT') == (204, b'')
        status, shown = read_response(reader)
        assert status == 200
        assert json.loads(shown)['status'] == 'active'
    finally:
        sock.close()
    assert_active_with(client, image['id'], data)


def test_connection_closed_after_broken_chunking(api_server, client):
    # Where a broken body ends is unknown: what follows it must never be
    # read as a request.
    image = create_image(client)
    sock = open_upload(api_server, image['id'], None, b'x' * 1000,
                       chunked_body=True)
    try:
        smuggled = ('DELETE /v2/images/%s HTTP/1.1\r\nHost: x\r\n\r\n'
                    % image['id']).encode('ascii')
        sock.sendall(b'zz\r\n' + smuggled)
        reader = _SharedReader(sock)
        assert read_response(reader, 'PUT')[0] == 400
        assert reader.read() == b''
    finally:
        sock.close()
    wait_status(client, image['id'], 'queued')


def test_client_disconnects_mid_download(api_server, client):
    data = data_of(8 * MiB, seed=21)
    image = create_image(client)
    assert put_file(client, image['id'], data).status_code == 204
    for ranged in (False, True):
        sock = socket.create_connection((api_server.host, api_server.port),
                                        timeout=30)
        extra = 'Range: bytes=10-\r\n' if ranged else ''
        sock.sendall(('GET /v2/images/%s/file HTTP/1.1\r\nHost: x\r\n%s'
                      '\r\n' % (image['id'], extra)).encode('ascii'))
        assert sock.recv(65536)
        sock.close()
    # The server goes on serving, the image is intact.
    assert_active_with(client, image['id'], data)


def test_server_killed_mid_upload(api_server_each_db):
    # The module's server of this database: restarted at the end, so the
    # other tests that share it do not notice.
    own_server = api_server_each_db
    client = own_server.client()
    image = create_image(client)
    total = 4 * MiB
    data = data_of(total, seed=3)
    sock = open_upload(own_server, image['id'], total, data[:total // 2])
    try:
        assert wait_status(client, image['id'], 'saving')['status'] == \
            'saving'
        # The partial data is on disk, under a name of its own.
        deadline = time.monotonic() + 5
        while not files_of(own_server, image['id']) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        partial = files_of(own_server, image['id'])
        assert partial and all(name != image['id'] for name in partial)
        # Kill the master and its workers at once.
        pid = own_server.process.pid
        os.killpg(pid, signal.SIGKILL)
        own_server.process.wait(timeout=10)
    finally:
        sock.close()
        client.close()
        own_server.restart()
    client = own_server.client()
    # The restarted node found its orphan and returned it to queued.
    assert_queued_and_clean(own_server, client, image['id'])
    response = put_file(client, image['id'], data)
    assert response.status_code == 204, response.text
    assert_active_with(client, image['id'], data)
    assert files_of(own_server, image['id']) == [image['id']]
    client.close()


def test_concurrent_upload_is_refused_while_one_runs(api_server, client):
    image = create_image(client)
    total = 2 * MiB
    first = data_of(total, seed=11)
    second = data_of(total, seed=12)
    sock = open_upload(api_server, image['id'], total, first[:MiB])
    try:
        assert wait_status(client, image['id'], 'saving')['status'] == \
            'saving'
        response = put_file(client, image['id'], second)
        assert response.status_code == 409, response.text
        sock.sendall(first[MiB:])
        assert read_status(sock) == 204
    finally:
        sock.close()
    assert_active_with(client, image['id'], first)
    assert files_of(api_server, image['id']) == [image['id']]


def test_concurrent_uploads_race(api_server):
    _race(api_server, rounds=4)


def test_concurrent_uploads_race_each_db(api_server_each_db):
    _race(api_server_each_db, rounds=2)


def _race(api_server, rounds):
    size = 2 * MiB
    for round_ in range(rounds):
        setup = api_server.client()
        image = create_image(setup)
        setup.close()
        datas = [data_of(size, seed=100 + 2 * round_ + i) for i in range(2)]
        barrier = threading.Barrier(2)
        results = [None, None]

        def run(i):
            c = api_server.client()
            try:
                barrier.wait()
                results[i] = put_file(c, image['id'],
                                      chunked(datas[i], 256 * 1024))
            except requests.RequestException as e:
                results[i] = e
            finally:
                c.close()

        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        codes = sorted(getattr(r, 'status_code', r) for r in results)
        assert codes == [204, 409], (codes, [getattr(r, 'text', r)
                                             for r in results])
        winner = datas[[r.status_code for r in results].index(204)]
        check = api_server.client()
        assert_active_with(check, image['id'], winner)
        assert files_of(api_server, image['id']) == [image['id']]
        check.close()


# -- who may download --------------------------------------------------

def test_deactivated_image_download(api_server):
    owner = api_server.client(project_id='deact-owner',
                              roles='member,reader')
    admin = api_server.client(project_id='some-admin-project',
                              roles='admin,member,reader')
    other = api_server.client(project_id='deact-other',
                              roles='member,reader')
    image = create_image(owner, visibility='community')
    data = data_of(3000)
    assert put_file(owner, image['id'], data).status_code == 204
    assert other.get('/v2/images/%s/file' % image['id']).content == data
    url = '/v2/images/%s/actions/%%s' % image['id']
    assert owner.post(url % 'deactivate').status_code == 204
    for client in (owner, other):
        response = client.get('/v2/images/%s/file' % image['id'])
        assert response.status_code == 403, response.text
        response = client.get('/v2/images/%s/file' % image['id'],
                              headers={'Range': 'bytes=0-9'})
        assert response.status_code == 403
        assert show(client, image['id'])['status'] == 'deactivated'
    response = admin.get('/v2/images/%s/file' % image['id'])
    assert response.status_code == 200
    assert response.content == data
    assert owner.post(url % 'reactivate').status_code == 204
    assert_active_with(owner, image['id'], data)
    assert other.get('/v2/images/%s/file' % image['id']).content == data
    for c in (owner, admin, other):
        c.close()


def test_reader_cannot_download(api_server):
    owner = api_server.client(project_id='reader-project',
                              roles='member,reader')
    reader = api_server.client(project_id='reader-project', roles='reader')
    image = create_image(owner)
    data = data_of(3000)
    assert put_file(owner, image['id'], data).status_code == 204
    assert show(reader, image['id'])['status'] == 'active'
    response = reader.get('/v2/images/%s/file' % image['id'])
    assert response.status_code == 403
    # Nor upload: that needs member too.
    image2 = create_image(owner)
    assert put_file(reader, image2['id'], data).status_code == 403
    assert show(owner, image2['id'])['status'] == 'queued'
    assert owner.get('/v2/images/%s/file' % image['id']).content == data
    owner.close()
    reader.close()


def test_other_project_cannot_see_private_data(api_server):
    owner = api_server.client(project_id='private-owner',
                              roles='member,reader')
    other = api_server.client(project_id='private-other',
                              roles='member,reader')
    image = create_image(owner, visibility='private')
    assert put_file(owner, image['id'], b'secret').status_code == 204
    assert other.get('/v2/images/%s/file' % image['id']).status_code == 404
    image2 = create_image(owner, visibility='private')
    assert put_file(other, image2['id'], b'x').status_code == 404
    owner.close()
    other.close()


# -- single store ------------------------------------------------------

def test_single_store_has_no_multistore_surface(api_server, client):
    ids = {v['id'] for v in client.get('/versions').json()['versions']}
    assert not ids & {'v2.%d' % n for n in range(8, 14)}
    assert 'v2.17' in ids
    assert client.get('/v2/info/stores').status_code == 404
    assert client.get('/v2/info/stores/detail').status_code == 404
    response = create_image(client)
    assert 'OpenStack-image-store-ids' not in client.create_image(
        name='x').headers
    data = data_of(100)
    response = put_file(client, response['id'], data,
                        headers={'X-Image-Meta-Store': 'file'})
    assert response.status_code == 400
    image = create_image(client)
    assert put_file(client, image['id'], data).status_code == 204
    assert 'stores' not in show(client, image['id'])
    assert client.delete('/v2/stores/file/%s' % image['id']).status_code \
        == 404


def test_delete_removes_the_data_at_once(api_server, client):
    image = create_image(client)
    assert put_file(client, image['id'], data_of(5000)).status_code == 204
    assert files_of(api_server, image['id']) == [image['id']]
    assert client.delete('/v2/images/%s' % image['id']).status_code == 204
    assert files_of(api_server, image['id']) == []
    assert client.get('/v2/images/%s/file' % image['id']).status_code == 404


# -- the same on every database ----------------------------------------

def test_data_round_trip_each_db(api_server_each_db):
    server = api_server_each_db
    client = server.client(project_id='each-db', roles='member,reader')
    data = data_of(2 * MiB + 5, seed=77)
    image = create_image(client)
    # A refused upload first: back to queued, then a retry works.
    response = put_file(client, image['id'], chunked(data),
                        headers={'x-openstack-image-size': '10'})
    assert response.status_code == 400
    assert_queued_and_clean(server, client, image['id'])
    assert put_file(client, image['id'], chunked(data)).status_code == 204
    assert_active_with(client, image['id'], data)
    response = client.get('/v2/images/%s/file' % image['id'],
                          headers={'Range': 'bytes=-3'})
    assert response.status_code == 206
    assert response.content == data[-3:]
    listed = client.get('/v2/images?checksum=%s'
                        % hashlib.md5(data).hexdigest()).json()['images']
    assert [i['id'] for i in listed] == [image['id']]
    assert client.delete('/v2/images/%s' % image['id']).status_code == 204
    assert files_of(server, image['id']) == []
    client.close()
