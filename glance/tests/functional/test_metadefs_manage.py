"""glance-manage db load_metadefs / unload_metadefs / export_metadefs.

The real command runs (a subprocess, as an operator runs it) against the
database of a real glance-api on SQLite, PostgreSQL and MariaDB, and what
it loads is read back through the API and through export. Each test
starts from an empty catalog (unload).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SHIPPED_DIR = os.path.join(ROOT, 'etc', 'metadefs')
DEFAULT_TYPES = {'OS::Glance::Image', 'OS::Cinder::Volume',
                 'OS::Nova::Flavor', 'OS::Nova::Aggregate',
                 'OS::Nova::Server', 'OS::Trove::Instance'}


def manage(server, *args, extra_config=None):
    command = [sys.executable, '-m', 'glance.cmd.manage',
               '--config-file', server.config_path]
    if extra_config is not None:
        command += ['--config-file', extra_config]
    env = dict(os.environ)
    env.pop('OS_GLANCE_CONFIG_FILES', None)
    return subprocess.run(command + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120,
                          env=env)


def ok(server, *args, **kwargs):
    result = manage(server, *args, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def fails(server, *args):
    result = manage(server, *args)
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stderr


@pytest.fixture
def server(api_server_each_db):
    ok(api_server_each_db, 'db', 'unload_metadefs')
    return api_server_each_db


@pytest.fixture
def admin(server):
    return server.client()


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(str(directory), name)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(data if isinstance(data, str) else json.dumps(data))
    return path


def export(server, directory):
    ok(server, 'db', 'export_metadefs', '--path', str(directory))
    return read_dir(directory)


def read_dir(directory):
    """{file name: text} of the .json files in a directory."""
    result = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith('.json'):
            with open(os.path.join(directory, name), encoding='utf-8') as f:
                result[name] = f.read()
    return result


def by_namespace(files):
    return {json.loads(text)['namespace']: text for text in files.values()}


def namespace_names(client, **params):
    params.setdefault('limit', 100)
    response = client.get('/v2/metadefs/namespaces', params=params)
    assert response.status_code == 200, response.text
    return sorted(n['namespace'] for n in response.json()['namespaces'])


def shipped():
    return by_namespace(read_dir(SHIPPED_DIR))


# A namespace in two versions, for the --merge family.
V1 = {
    'namespace': 'Test::Merge', 'display_name': 'one',
    'description': 'first', 'visibility': 'public', 'protected': False,
    'resource_type_associations': [
        {'name': 'OS::Glance::Image', 'prefix': 'a_'}],
    'properties': {
        'p1': {'title': 'P1 old', 'type': 'string'},
        'only_v1': {'title': 'Only in v1', 'type': 'integer'}},
    'objects': [{'name': 'o1', 'description': 'old',
                 'properties': {'x': {'title': 'X', 'type': 'string'}}}],
    'tags': [{'name': 't1'}],
}
V2 = {
    'namespace': 'Test::Merge', 'display_name': 'two',
    'description': 'second', 'visibility': 'public', 'protected': True,
    'resource_type_associations': [
        {'name': 'OS::Glance::Image', 'prefix': 'b_'},
        {'name': 'Test::NewType', 'prefix': 'n:'}],
    'properties': {
        'p1': {'title': 'P1 new', 'type': 'string', 'enum': ['a']},
        'p2': {'title': 'P2', 'type': 'boolean'}},
    'objects': [{'name': 'o1', 'description': 'new',
                 'properties': {'y': {'title': 'Y', 'type': 'string'}}},
                {'name': 'o2', 'description': 'added', 'properties': {}}],
    'tags': [{'name': 't1'}, {'name': 't2'}],
}


def show(client, name, **params):
    response = client.get('/v2/metadefs/namespaces/%s' % name,
                          params=params)
    assert response.status_code == 200, response.text
    return response.json()


# -- tests -------------------------------------------------------------
#
# Every glance-manage run costs a process start (seconds on a busy
# machine), so each test walks through several steps.

def test_shipped_definitions_load_serve_unload_and_load_again(
        server, admin, tmp_path):
    # The default path is [DEFAULT] metadata_source_path.
    source = tmp_path / 'defs'
    shutil.copytree(SHIPPED_DIR, source)
    config = write(tmp_path, 'extra.conf',
                   '[DEFAULT]\nmetadata_source_path = %s\n' % source)
    out = ok(server, 'db', 'load_metadefs', extra_config=config)
    assert 'Loaded 20 of 20 namespaces from %s' % source in out
    names = sorted(shipped())
    assert namespace_names(admin) == names
    # Public: every project reads them.
    reader = server.client(project_id='someone', roles='reader')
    assert namespace_names(reader) == names

    pinning = show(reader, 'OS::Compute::CPUPinning',
                   resource_type='OS::Nova::Flavor')
    assert pinning['protected'] is True
    assert pinning['properties']['hw:cpu_policy']['enum'] == [
        'shared', 'dedicated']
    assert {a['name']: a.get('prefix') for a in
            pinning['resource_type_associations']} == {
        'OS::Cinder::Volume': 'hw_', 'OS::Glance::Image': 'hw_',
        'OS::Nova::Flavor': 'hw:'}
    quota = show(reader, 'OS::Compute::Quota')
    assert [o['name'] for o in quota['objects']] == [
        'CPU Limits', 'Disk QoS', 'Virtual Interface QoS']
    flavor_namespaces = namespace_names(
        reader, resource_types='OS::Nova::Flavor')
    assert 'OS::Compute::Watchdog' in flavor_namespaces
    assert 'OS::OperatingSystem' not in flavor_namespaces
    # Protected, as the files say.
    response = admin.delete('/v2/metadefs/namespaces/OS::Compute::Watchdog')
    assert response.status_code == 403

    # Unload takes everything, protected or not, and the resource types
    # loads created; the catalog is as a new database has it.
    ok(server, 'db', 'load_metadefs', '--path',
       write(tmp_path / 'v2', 'n.json', V2))
    out = ok(server, 'db', 'unload_metadefs')
    assert 'Unloaded 21 namespaces.' in out
    assert namespace_names(admin) == []
    types = admin.get('/v2/metadefs/resource_types').json()
    assert {t['name'] for t in types['resource_types']} == DEFAULT_TYPES
    out = ok(server, 'db', 'export_metadefs', '--path',
             str(tmp_path / 'empty'))
    assert 'Exported 0 namespaces' in out
    assert read_dir(tmp_path / 'empty') == {}

    # Loading again works, and the API can add to what was loaded.
    ok(server, 'db', 'load_metadefs', '--path', SHIPPED_DIR)
    response = admin.post(
        '/v2/metadefs/namespaces/OS::Compute::Watchdog/tags/extra')
    assert response.status_code == 201, response.text
    exported = by_namespace(export(server, tmp_path / 'out'))
    assert json.loads(exported['OS::Compute::Watchdog'])['tags'] == [
        {'name': 'extra'}]


def test_load_export_unload_load_round_trips_byte_equal(server, admin,
                                                        tmp_path):
    extra = {
        'namespace': 'Test::Everything', 'display_name': 'Everything',
        'visibility': 'private', 'protected': False, 'owner': 'project-x',
        'resource_type_associations': [
            {'name': 'OS::Cinder::Volume', 'prefix': 'e_',
             'properties_target': 'image'},
            {'name': 'Test::Custom'}],
        'properties': {'ü': {'title': 'Ünïcode', 'type': 'string',
                             'default': 'ß', 'readonly': True}},
        'objects': [{'name': 'with required', 'properties': {
            'a': {'title': 'A', 'type': 'array',
                  'items': {'type': 'string', 'enum': ['x', 'y']}}},
            'required': ['a']}],
        'tags': [{'name': 'zeta'}, {'name': 'alpha'}, {'name': 'Alpha'}],
    }
    source = tmp_path / 'source'
    shutil.copytree(SHIPPED_DIR, source)
    write(source, 'everything.json', extra)
    ok(server, 'db', 'load_metadefs', '--path', str(source))
    first = export(server, tmp_path / 'first')
    assert len(first) == 21
    # Freshly loaded files come out byte for byte as they went in.
    expected = shipped()
    for name, text in by_namespace(first).items():
        if name in expected:
            assert text == expected[name], name
    assert json.loads(by_namespace(first)['Test::Everything']) == extra

    ok(server, 'db', 'unload_metadefs')
    assert namespace_names(admin) == []
    ok(server, 'db', 'load_metadefs', '--path', str(tmp_path / 'first'))
    second = export(server, tmp_path / 'second')
    assert second == first

    # Loaded private to its owner: the owner sees it, others do not.
    owner = server.client(project_id='project-x', roles='member,reader')
    other = server.client(project_id='project-y', roles='member,reader')
    assert 'Test::Everything' in namespace_names(owner)
    assert 'Test::Everything' not in namespace_names(other)

    # Exporting into the directory the files came from rewrites each
    # file in place rather than adding a second file per namespace.
    out = ok(server, 'db', 'export_metadefs', '--path', str(source))
    assert 'Exported 21 namespaces' in out
    assert sorted(read_dir(source)) == sorted(
        list(read_dir(SHIPPED_DIR)) + ['everything.json'])
    assert by_namespace(read_dir(source)) == by_namespace(first)


def _state(client, name):
    """What the API serves of a namespace, in the file's terms."""
    body = show(client, name)
    return {
        'display_name': body.get('display_name'),
        'protected': body['protected'],
        'associations': {a['name']: a.get('prefix')
                         for a in body['resource_type_associations']},
        'properties': {k: v['title']
                       for k, v in body.get('properties', {}).items()},
        'objects': {o['name']: (o.get('description'),
                                sorted(o.get('properties', {})))
                    for o in body.get('objects', [])},
        'tags': sorted(t['name'] for t in body.get('tags', [])),
    }


def test_merge_prefer_new_and_overwrite(server, admin, tmp_path):
    v1 = write(tmp_path / 'v1', 'n.json', V1)
    v2 = write(tmp_path / 'v2', 'n.json', V2)
    ok(server, 'db', 'load_metadefs', '--path', v1)
    loaded_v1 = _state(admin, 'Test::Merge')
    assert loaded_v1 == {
        'display_name': 'one', 'protected': False,
        'associations': {'OS::Glance::Image': 'a_'},
        'properties': {'p1': 'P1 old', 'only_v1': 'Only in v1'},
        'objects': {'o1': ('old', ['x'])}, 'tags': ['t1']}

    # Without --merge, a namespace already there is left alone.
    out = ok(server, 'db', 'load_metadefs', '--path', v2)
    assert 'Namespace Test::Merge skipped' in out
    assert 'Loaded 0 of 1 namespaces' in out
    assert _state(admin, 'Test::Merge') == loaded_v1

    # --merge adds what is missing and keeps what is there.
    out = ok(server, 'db', 'load_metadefs', '--path', v2, '--merge')
    assert 'Namespace Test::Merge merged.' in out
    assert _state(admin, 'Test::Merge') == {
        'display_name': 'one', 'protected': False,
        'associations': {'OS::Glance::Image': 'a_',
                         'Test::NewType': 'n:'},
        'properties': {'p1': 'P1 old', 'only_v1': 'Only in v1',
                       'p2': 'P2'},
        'objects': {'o1': ('old', ['x']), 'o2': ('added', [])},
        'tags': ['t1', 't2']}
    # A resource type first named by a file is created.
    types = admin.get('/v2/metadefs/resource_types').json()
    assert 'Test::NewType' in {t['name'] for t in types['resource_types']}

    # --merge --prefer_new: the file wins where both define something;
    # what only the database has stays.
    out = ok(server, 'db', 'load_metadefs', '--path', v2, '--merge',
             '--prefer_new')
    assert 'Namespace Test::Merge merged.' in out
    assert _state(admin, 'Test::Merge') == {
        'display_name': 'two', 'protected': True,
        'associations': {'OS::Glance::Image': 'b_',
                         'Test::NewType': 'n:'},
        'properties': {'p1': 'P1 new', 'only_v1': 'Only in v1',
                       'p2': 'P2'},
        'objects': {'o1': ('new', ['y']), 'o2': ('added', [])},
        'tags': ['t1', 't2']}

    # --merge --overwrite: the namespace is the file's, nothing else.
    out = ok(server, 'db', 'load_metadefs', '--path', v1, '--merge',
             '--overwrite')
    assert 'Namespace Test::Merge replaced.' in out
    assert _state(admin, 'Test::Merge') == loaded_v1
    files = by_namespace(export(server, tmp_path / 'out'))
    assert json.loads(files['Test::Merge']) == V1


def test_positional_and_older_command_forms(server, admin, tmp_path):
    v1 = write(tmp_path / 'v1', 'n.json', V1)
    v2 = write(tmp_path / 'v2', 'n.json', V2)
    ok(server, 'db_load_metadefs', v1)
    # db load_metadefs PATH MERGE PREFER_NEW OVERWRITE, as the reference.
    out = ok(server, 'db', 'load_metadefs', v2, 'true', 'false', 'true')
    assert 'Namespace Test::Merge replaced.' in out
    ok(server, 'db_export_metadefs', str(tmp_path / 'out1'))
    ok(server, 'db', 'export_metadefs', str(tmp_path / 'out2'))
    assert read_dir(tmp_path / 'out1') == read_dir(tmp_path / 'out2')
    assert json.loads(by_namespace(read_dir(tmp_path / 'out1'))
                      ['Test::Merge']) == V2
    ok(server, 'db_unload_metadefs')
    assert namespace_names(admin) == []
    assert 'must be true or false' in fails(
        server, 'db', 'load_metadefs', v1, 'maybe')


def test_bad_arguments_and_bad_files_change_nothing(server, admin,
                                                    tmp_path):
    v1 = write(tmp_path / 'v1', 'n.json', V1)
    ok(server, 'db', 'load_metadefs', '--path', v1)
    loaded_v1 = _state(admin, 'Test::Merge')

    assert 'only apply with --merge' in fails(
        server, 'db', 'load_metadefs', '--path', v1, '--prefer_new')
    assert 'not both' in fails(
        server, 'db', 'load_metadefs', '--path', v1, '--merge',
        '--prefer_new', '--overwrite')
    assert 'no such file or directory' in fails(
        server, 'db', 'load_metadefs', '--path', str(tmp_path / 'nowhere'))

    # One bad file among good ones: nothing is loaded, nothing replaced.
    source = tmp_path / 'defs'
    shutil.copytree(SHIPPED_DIR, source)
    write(source, 'n.json', V2)
    bad_file = write(source, 'zz-bad.json', '{"namespace": "Test::Bad", ')
    stderr = fails(server, 'db', 'load_metadefs', '--path', str(source),
                   '--merge', '--overwrite')
    assert stderr.startswith('ERROR: %s: is not valid JSON' % bad_file)
    write(source, 'zz-bad.json', {'namespace': 'Test::Bad', 'properties': {
        'p': {'title': 'P', 'type': 'str'}}})
    stderr = fails(server, 'db', 'load_metadefs', '--path', str(source),
                   '--merge', '--overwrite')
    assert stderr.startswith(
        "ERROR: %s: at properties/p: Invalid value for 'type'" % bad_file)

    assert namespace_names(admin) == ['Test::Merge']
    assert _state(admin, 'Test::Merge') == loaded_v1
