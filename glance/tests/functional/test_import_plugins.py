"""Import plugins on real data, against a real glance-api.

The bundled plugins (image_decompression, image_conversion with
qemu-img, inject_image_metadata, no_op) and two plugins of a separate
package (import_plugin_package/, made visible to the server through
PYTHONPATH and a .dist-info, the way pip installs it), all named in
[image_import_opts] image_import_plugins and loaded by stevedore from
the glance.image_import.plugins entry points. A plugin that fails makes
the whole import revert.
"""

import bz2
import configparser
import gzip
import io
import lzma
import os
import random
import shutil
import tempfile
import zipfile

import pytest

from glance.tests.functional import import_helpers as h
from glance.tests.functional import server as server_lib

MiB = h.MiB
PACKAGE = os.path.join(os.path.dirname(__file__), 'import_plugin_package')
PLUGINS = ('image_decompression,image_conversion,inject_image_metadata,'
           'no_op,test_mark,test_fail')


def install_plugin_package(target):
    """Lay the test package out in target as pip would: the package and
    a .dist-info whose entry_points.txt comes from its setup.cfg."""
    config = configparser.ConfigParser()
    config.read(os.path.join(PACKAGE, 'setup.cfg'))
    name = config['metadata']['name']
    version = config['metadata']['version']
    package = config['options']['packages'].strip()
    shutil.copytree(os.path.join(PACKAGE, package),
                    os.path.join(target, package))
    dist_info = os.path.join(target, '%s-%s.dist-info'
                             % (name.replace('-', '_'), version))
    os.makedirs(dist_info)
    with open(os.path.join(dist_info, 'METADATA'), 'w') as f:
        f.write('Metadata-Version: 2.1\nName: %s\nVersion: %s\n'
                % (name, version))
    with open(os.path.join(dist_info, 'entry_points.txt'), 'w') as f:
        for group, lines in config['options.entry_points'].items():
            f.write('[%s]\n%s\n\n' % (group, lines.strip()))
    with open(os.path.join(dist_info, 'top_level.txt'), 'w') as f:
        f.write(package + '\n')


@pytest.fixture(scope='module')
def server():
    plugin_dir = tempfile.mkdtemp(prefix='glance-plugin-')
    install_plugin_package(plugin_dir)
    path = os.pathsep.join(p for p in (plugin_dir,
                                       os.environ.get('PYTHONPATH')) if p)
    server = server_lib.Server('sqlite', env={'PYTHONPATH': path}, options={
        'image_import_opts': {'image_import_plugins': PLUGINS},
        'inject_metadata_properties': {
            'inject': 'injected_by:glance,site:test',
            'ignore_user_roles': 'admin'},
        'image_conversion': {'output_format': 'raw'},
    })
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(plugin_dir, ignore_errors=True)


@pytest.fixture
def member(server):
    client = server.client(project_id='p1', roles='member,reader')
    yield client
    client.close()


def data_of(size, seed=0):
    return random.Random(seed).randbytes(size)


def imported(client, data, **values):
    image = h.create_image(client, **values)
    assert h.stage(client, image['id'], data).status_code == 204
    response = h.import_image(client, image['id'])
    assert response.status_code == 202, response.text
    task = h.wait_task(client, image['id'])
    return h.show(client, image['id']), task


def test_every_plugin_runs(server, member):
    data = data_of(MiB, seed=1)
    image, task = imported(member, data)
    assert task['status'] == 'success', task
    assert image['status'] == 'active'
    assert image['injected_by'] == 'glance' and image['site'] == 'test'
    # The plugin of the separate package ran, with the reference's
    # file_path in the engine's store.
    assert image['test_plugin'] == 'ran'
    assert image['test_plugin_file'] == image['id']
    assert member.get('/v2/images/%s/file' % image['id']).content == data
    assert h.staging_files(server, image['id']) == []


def test_admin_images_are_not_injected(server):
    admin = server.client()
    image, task = imported(admin, b'admin data')
    assert task['status'] == 'success'
    assert 'injected_by' not in image and image['test_plugin'] == 'ran'


@pytest.mark.skipif(not h.have_qemu_img(), reason='qemu-img is missing')
def test_qcow2_is_converted_to_raw(member, tmp_path):
    payload = data_of(300000, seed=2)
    qcow2 = h.make_qcow2(str(tmp_path), size='4M', payload=payload)
    image, task = imported(member, qcow2, disk_format='qcow2')
    assert task['status'] == 'success', task
    assert image['disk_format'] == 'raw'
    assert image['virtual_size'] == 4 * MiB
    assert image['size'] == 4 * MiB
    expected = payload + b'\0' * (4 * MiB - len(payload))
    assert image['checksum'] == h.hashes(expected)[0]


def _zip(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('disk.raw', data)
    return buffer.getvalue()


def _zstd(data):
    import zstandard
    return zstandard.ZstdCompressor().compress(data)


COMPRESSORS = {'gzip': gzip.compress, 'bzip2': bz2.compress,
               'xz': lzma.compress, 'zstd': _zstd, 'zip': _zip}


@pytest.mark.parametrize('kind', sorted(COMPRESSORS))
def test_decompression(member, kind):
    data = data_of(MiB, seed=3) + b'\0' * MiB
    packed = COMPRESSORS[kind](data)
    assert len(packed) < len(data)
    image, task = imported(member, packed)
    assert task['status'] == 'success', task
    assert image['size'] == len(data)
    assert image['checksum'] == h.hashes(data)[0]
    assert member.get('/v2/images/%s/file' % image['id']).content == data


def test_compressed_container_is_left_alone(member):
    packed = gzip.compress(b'keep me compressed' * 1000)
    image, task = imported(member, packed, container_format='compressed')
    assert task['status'] == 'success'
    assert image['checksum'] == h.hashes(packed)[0]


@pytest.mark.skipif(not h.have_qemu_img(), reason='qemu-img is missing')
def test_gzipped_qcow2_is_decompressed_then_converted(member, tmp_path):
    qcow2 = h.make_qcow2(str(tmp_path), size='2M', payload=b'boot' * 1000)
    image, task = imported(member, gzip.compress(qcow2),
                           disk_format='qcow2')
    assert task['status'] == 'success', task
    assert image['disk_format'] == 'raw' and image['size'] == 2 * MiB


def test_zip_of_two_files_is_refused(member):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('a.raw', b'a' * 100)
        archive.writestr('b.raw', b'b' * 100)
    image, task = imported(member, buffer.getvalue())
    assert task['status'] == 'failure'
    assert 'exactly one file' in task['message']
    assert image['status'] == 'queued'


@pytest.mark.skipif(not h.have_qemu_img(), reason='qemu-img is missing')
def test_failing_plugin_reverts_everything(server, member, tmp_path):
    qcow2 = h.make_qcow2(str(tmp_path), size='4M', payload=b'x' * 5000)
    image, task = imported(member, qcow2, disk_format='qcow2',
                           test_fail='yes')
    assert task['status'] == 'failure'
    assert task['message'] == 'Unexpected error: test_fail plugin failed ' \
        'as asked'
    # Converted and injected before the failure; all of it undone.
    assert image['status'] == 'queued'
    assert image['disk_format'] == 'qcow2'
    assert image['virtual_size'] is None and image['size'] is None
    assert 'injected_by' not in image and 'site' not in image
    assert 'os_glance_import_task' not in image
    assert h.staging_files(server, image['id']) == []
    assert h.store_files(server, image['id']) == []
    # And the image can be imported again.
    response = member.patch_image(image['id'], [
        {'op': 'remove', 'path': '/test_fail'}])
    assert response.status_code == 200, response.text
    assert h.stage(member, image['id'], qcow2).status_code == 204
    assert h.import_image(member, image['id']).status_code == 202
    assert h.wait_task(member, image['id'], count=2)['status'] == 'success'
    assert h.show(member, image['id'])['disk_format'] == 'raw'
