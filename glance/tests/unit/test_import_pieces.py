"""Unit tests of the import pipeline's pieces: staging, progress, the
task state machine, request validation, decompression, the catalog."""

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import types
import zipfile

import pytest
import webob

from glance.api.v2 import image_import
from glance.async_ import executor
from glance.async_.flows import glance_download
from glance.async_.flows import import_state
from glance.async_.flows.plugins import image_decompression as decomp
from glance.common import exception
from glance.domain import task as domain_task
from glance.store import backends
from glance.store import staging


@pytest.fixture
def state_path(conf, tmp_path):
    backends.register_opts()
    conf.config(state_path=str(tmp_path))
    return tmp_path


# -- staging -------------------------------------------------------------

def test_stage_write_hashes_and_inspects(state_path):
    data = os.urandom(3 * 1024 * 1024 + 5)
    chunks = [data[i:i + 1000000] for i in range(0, len(data), 1000000)]
    seen = []
    info = staging.write('img', iter(chunks), disk_format='raw',
                         extra_algorithms=['sha256'], progress=seen.append)
    assert info.size == len(data)
    assert info.checksum == hashlib.md5(data).hexdigest()
    assert info.os_hash_value == hashlib.sha512(data).hexdigest()
    assert info.hash_of('sha256') == hashlib.sha256(data).hexdigest()
    assert info.virtual_size == len(data)
    assert seen[-1] == len(data)
    assert (state_path / 'staging' / 'img').read_bytes() == data
    assert staging.load_info('img') == info


def test_stage_info_goes_stale_when_the_file_changes(state_path):
    staging.write('img', iter([b'a' * 100]), disk_format='raw')
    assert staging.load_info('img') is not None
    path = staging.path('img')
    with open(path + '.new', 'wb') as f:
        f.write(b'b' * 50)
    os.replace(path + '.new', path)
    assert staging.load_info('img') is None
    info = staging.scan('img', 'raw')
    assert info.size == 50
    assert info.checksum == hashlib.md5(b'b' * 50).hexdigest()
    assert staging.load_info('img') == info


def test_stage_format_outcome_is_kept(state_path):
    info = staging.write('img', iter([os.urandom(4096)]),
                         disk_format='qcow2')
    assert info.format_error_kind == 'mismatch'
    with pytest.raises(exception.UnsupportedMediaType):
        info.check_format()


def test_failed_stage_leaves_nothing(state_path):
    def broken():
        yield b'x' * 10
        raise exception.BadRequest('client went away')
    with pytest.raises(exception.BadRequest):
        staging.write('img', broken())
    assert os.listdir(staging.staging_dir()) == []


def test_discard(state_path):
    staging.write('img', iter([b'abc']))
    open(staging.path('img') + '.converted', 'w').close()
    staging.discard('img')
    assert os.listdir(staging.staging_dir()) == []


def test_node_staging_uri(conf, tmp_path):
    backends.register_opts()
    conf.config(node_staging_uri='file://%s/elsewhere' % tmp_path)
    assert staging.staging_dir() == '%s/elsewhere' % tmp_path
    conf.config(node_staging_uri='swift://nope')
    with pytest.raises(RuntimeError):
        staging.staging_dir()


# -- progress and tasks --------------------------------------------------

def test_progress_message():
    progress = executor.Progress('t', 'Downloaded', total=4 * 1024 * 1024)
    progress.done = 1024 * 1024
    assert progress.message() == 'Downloaded 1.0 MiB of 4.0 MiB (25%)'
    progress = executor.Progress('t', 'Copied')
    progress.done = 1536
    assert progress.message() == 'Copied 1.5 KiB'
    assert executor.human_size(10) == '10 bytes'


def test_task_transitions():
    task = domain_task.new_task('api_image_import', owner='p')
    assert task.status == 'pending' and task.is_live
    task.check_transition('processing')
    with pytest.raises(domain_task.InvalidTaskStatusTransition):
        task.check_transition('success')
    task.status = 'success'
    with pytest.raises(domain_task.InvalidTaskStatusTransition):
        task.check_transition('failure')


def test_describe_error():
    assert executor.describe_error(exception.Conflict('busy')) == 'busy'
    assert executor.describe_error(ValueError('bad')) == \
        'Unexpected error: bad'


def test_edit_store_list(conf):
    backends.register_opts()
    conf.config(enabled_backends={'fast': 'file', 'cheap': 'file'})
    image = types.SimpleNamespace(extra_properties={
        import_state.FAILED: 'cheap,fast'})
    import_state.edit_store_list(image, import_state.FAILED, add=['slow'],
                                 remove=['fast'])
    assert image.extra_properties[import_state.FAILED] == 'cheap,slow'


# -- request validation --------------------------------------------------

def _request(body):
    return webob.Request.blank('/', method='POST',
                               body=json.dumps(body).encode())


@pytest.mark.parametrize('body', [
    [],
    {'method': {}},
    {'method': {'name': 'nope'}},
    {'method': {'name': 'glance-download'}},           # not enabled
    {'method': {'name': 'web-download', 'uri': 7}},
    {'method': {'name': 'copy-image',
                'validation_data': {'checksum': '0' * 32}}},
    {'method': {'name': 'glance-direct',
                'validation_data': {'checksum': 'xyz'}}},
    {'method': {'name': 'glance-direct',
                'validation_data': {'os_hash_algo': 'sha256'}}},
    {'method': {'name': 'glance-direct',
                'validation_data': {'sha': 'x'}}},
    {'method': {'name': 'glance-direct'}, 'stores': [1]},
])
def test_bad_import_bodies(conf, body):
    with pytest.raises(exception.BadRequest):
        image_import._parse_body(_request(body))


def test_good_import_bodies(conf):
    conf.config(enabled_import_methods=['glance-direct', 'web-download',
                                        'glance-download'])
    for body in (
            {'method': {'name': 'glance-direct'}},
            {'method': {'name': 'web-download', 'uri': 'http://x/y',
                        'validation_data': {
                            'os_hash_algo': 'sha256',
                            'os_hash_value': 'a' * 64}}},
            {'method': {'name': 'glance-download',
                        'glance_image_id':
                            '5b1f0c62-6a8e-4a64-9d40-8c1b7b3f2a10',
                        'glance_region': 'R2',
                        'glance_service_interface': 'internal'}},
            {'method': {'name': 'glance-direct'}, 'stores': ['a', 'b'],
             'all_stores_must_succeed': False}):
        assert image_import._parse_body(_request(body)) == body


# -- decompression -------------------------------------------------------

def _zip(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('one', data)
    return buffer.getvalue()


def _zstd(data):
    import zstandard
    return zstandard.ZstdCompressor().compress(data)


@pytest.mark.parametrize('kind, pack', [
    ('gzip', gzip.compress), ('bzip2', bz2.compress), ('xz', lzma.compress),
    ('zip', _zip), ('zstd', _zstd)])
def test_decompression_formats(tmp_path, kind, pack):
    data = os.urandom(100000) * 3
    path = tmp_path / 'img'
    path.write_bytes(pack(data))
    assert decomp.detect(str(path)) == kind
    with decomp.open_decompressed(str(path), kind) as f:
        assert f.read() == data


def test_plain_data_is_not_compressed(tmp_path):
    path = tmp_path / 'img'
    path.write_bytes(b'QFI\xfb' + b'\0' * 100)
    assert decomp.detect(str(path)) is None


# -- the service catalog -------------------------------------------------

V2 = [{'type': 'image', 'name': 'glance', 'endpoints': [
    {'region': 'R1', 'publicURL': 'http://r1:9292',
     'internalURL': 'http://r1-int:9292'},
    {'region': 'R2', 'publicURL': 'http://r2:9292/v2/'}]}]
V3 = [{'type': 'image', 'name': 'glance', 'endpoints': [
    {'region_id': 'R1', 'region': 'R1', 'interface': 'public',
     'url': 'http://r1:9292'},
    {'region_id': 'R2', 'region': 'R2', 'interface': 'internal',
     'url': 'http://r2-int:9292'}]}]


def test_endpoint_from_catalog():
    context = types.SimpleNamespace(service_catalog=V2)
    assert glance_download.endpoint_for(context, 'R1') == 'http://r1:9292'
    assert glance_download.endpoint_for(context, 'R1', 'internal') == \
        'http://r1-int:9292'
    assert glance_download.endpoint_for(context, 'R2') == 'http://r2:9292'
    context = types.SimpleNamespace(service_catalog=V3)
    assert glance_download.endpoint_for(context, 'R2', 'internal') == \
        'http://r2-int:9292'
    with pytest.raises(exception.BadRequest):
        glance_download.endpoint_for(context, 'R2', 'public')
    with pytest.raises(exception.BadRequest):
        glance_download.endpoint_for(types.SimpleNamespace(), 'R1')
    with pytest.raises(exception.BadRequest):
        glance_download.parse_catalog('{"not": "a list"}')


# -- glance-image-import.conf --------------------------------------------

def test_import_conf_next_to_the_config_file_is_read(tmp_path):
    from oslo_config import cfg

    from glance.common import config

    api = tmp_path / 'glance-api.conf'
    api.write_text('[DEFAULT]\nstate_path = %s\n' % tmp_path)
    (tmp_path / 'glance-image-import.conf').write_text(
        '[image_import_opts]\nimage_import_plugins = no_op\n'
        '[import_filtering_opts]\nallowed_hosts = 10.0.0.0/8\n')
    conf = cfg.ConfigOpts()
    config.parse_args(['--config-file', str(api)], conf=conf)
    assert conf.image_import_opts.image_import_plugins == ['no_op']
    assert conf.import_filtering_opts.allowed_hosts == ['10.0.0.0/8']
    assert conf.task.task_time_to_live == 48
