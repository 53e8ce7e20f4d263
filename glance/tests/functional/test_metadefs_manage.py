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


def load_v1_then_v2(server, tmp_path, *flags):
    ok(server, 'db', 'load_metadefs', '--path',
       write(tmp_path / 'v1', 'n.json', V1))
    return ok(server, 'db', 'load_metadefs', '--path',
              write(tmp_path / 'v2', 'n.json', V2), *flags)


# -- tests -------------------------------------------------------------

def test_shipped_definitions_load_and_are_served(server, admin, tmp_path):
    out = ok(server, 'db', 'load_metadefs', '--path', SHIPPED_DIR)
    assert 'Loaded 20 of 20 namespaces' in out
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


def test_default_path_is_metadata_source_path(server, admin, tmp_path):
    source = tmp_path / 'defs'
    shutil.copytree(SHIPPED_DIR, source)
    os.remove(source / 'compute-quota.json')
    config = write(tmp_path, 'extra.conf',
                   '[DEFAULT]\nmetadata_source_path = %s\n' % source)
    out = ok(server, 'db', 'load_metadefs', extra_config=config)
    assert 'Loaded 19 of 19 namespaces from %s' % source in out
    assert 'OS::Compute::Quota' not in namespace_names(admin)


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
    everything = json.loads(by_namespace(first)['Test::Everything'])
    assert everything == extra

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


def test_export_rewrites_the_file_holding_a_namespace(server, tmp_path):
    target = tmp_path / 'defs'
    shutil.copytree(SHIPPED_DIR, target)
    ok(server, 'db', 'load_metadefs', '--path', str(target))
    out = ok(server, 'db', 'export_metadefs', '--path', str(target))
    assert 'Exported 20 namespaces' in out
    # The same files, no second copy under another name.
    assert read_dir(target) == read_dir(SHIPPED_DIR)


def test_existing_namespaces_are_skipped_without_merge(server, admin,
                                                       tmp_path):
    out = load_v1_then_v2(server, tmp_path)
    assert 'Namespace Test::Merge skipped' in out
    assert 'Loaded 0 of 1 namespaces' in out
    files = by_namespace(export(server, tmp_path / 'out'))
    assert json.loads(files['Test::Merge']) == V1


def test_merge_adds_what_is_missing_and_keeps_what_is_there(server, admin,
                                                            tmp_path):
    out = load_v1_then_v2(server, tmp_path, '--merge')
    assert 'Namespace Test::Merge merged.' in out
    merged = json.loads(by_namespace(export(server, tmp_path / 'out'))
                        ['Test::Merge'])
    assert merged == {
        'namespace': 'Test::Merge', 'display_name': 'one',
        'description': 'first', 'visibility': 'public', 'protected': False,
        'resource_type_associations': [
            {'name': 'OS::Glance::Image', 'prefix': 'a_'},
            {'name': 'Test::NewType', 'prefix': 'n:'}],
        'properties': {
            'p1': {'title': 'P1 old', 'type': 'string'},
            'only_v1': {'title': 'Only in v1', 'type': 'integer'},
            'p2': {'title': 'P2', 'type': 'boolean'}},
        'objects': [V1['objects'][0], V2['objects'][1]],
        'tags': [{'name': 't1'}, {'name': 't2'}],
    }
    # A resource type first named by a file is created, protected.
    types = admin.get('/v2/metadefs/resource_types').json()
    assert 'Test::NewType' in {t['name'] for t in types['resource_types']}


def test_merge_prefer_new_replaces_what_the_file_defines(server, tmp_path):
    out = load_v1_then_v2(server, tmp_path, '--merge', '--prefer_new')
    assert 'Namespace Test::Merge merged.' in out
    merged = json.loads(by_namespace(export(server, tmp_path / 'out'))
                        ['Test::Merge'])
    assert merged == dict(
        V2,
        properties={'p1': V2['properties']['p1'],
                    'only_v1': V1['properties']['only_v1'],
                    'p2': V2['properties']['p2']})


def test_merge_overwrite_replaces_the_namespace(server, tmp_path):
    out = load_v1_then_v2(server, tmp_path, '--merge', '--overwrite')
    assert 'Namespace Test::Merge replaced.' in out
    files = by_namespace(export(server, tmp_path / 'out'))
    assert json.loads(files['Test::Merge']) == V2


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


@pytest.mark.parametrize('flags, message', [
    (['--prefer_new'], 'only apply with --merge'),
    (['--overwrite'], 'only apply with --merge'),
    (['--merge', '--prefer_new', '--overwrite'], 'not both'),
])
def test_conflicting_flags_are_refused(server, admin, tmp_path, flags,
                                       message):
    path = write(tmp_path, 'n.json', V1)
    assert message in fails(server, 'db', 'load_metadefs', '--path', path,
                            *flags)
    assert namespace_names(admin) == []


@pytest.mark.parametrize('bad, message', [
    ('{"namespace": "Test::Bad", ', 'is not valid JSON'),
    ({'namespace': 'Test::Bad', 'properties': {
        'p': {'title': 'P', 'type': 'str'}}},
     "at properties/p: Invalid value for 'type'"),
    ({'namespace': 'Test::Bad', 'properties': {'p': {'type': 'string'}}},
     "'title' is a required property"),
    ({'namespace': 'Test::Bad', 'objects': [{'name': 'o', 'properties': {
        'p': {'title': 'P', 'type': 'string', 'minLength': -1}}}]},
     'at objects/0/properties/p'),
    ({'namespace': 'Test::Bad', 'display_name': 'x' * 81},
     'at display_name'),
    ({'namespace': 'Test::Bad', 'tags': [{'name': 't'}, {'name': 't'}]},
     'tags t appear more than once'),
    ({'namespace': 'OS::Compute::Watchdog'},
     'namespace OS::Compute::Watchdog is also defined in'),
])
def test_a_malformed_file_loads_nothing(server, admin, tmp_path, bad,
                                        message):
    source = tmp_path / 'defs'
    shutil.copytree(SHIPPED_DIR, source)
    bad_file = write(source, 'zz-bad.json', bad)
    stderr = fails(server, 'db', 'load_metadefs', '--path', str(source))
    assert stderr.startswith('ERROR: %s' % bad_file), stderr
    assert message in stderr
    assert namespace_names(admin) == []

    # Nor does it touch a catalog that holds definitions already.
    ok(server, 'db', 'load_metadefs', '--path', write(tmp_path / 'v1',
                                                      'n.json', V1))
    before = export(server, tmp_path / 'before')
    fails(server, 'db', 'load_metadefs', '--path', str(source), '--merge',
          '--overwrite')
    assert export(server, tmp_path / 'after') == before


def test_a_missing_path_is_an_error(server, tmp_path):
    stderr = fails(server, 'db', 'load_metadefs', '--path',
                   str(tmp_path / 'nowhere'))
    assert 'no such file or directory' in stderr
    (tmp_path / 'empty').mkdir()
    stderr = fails(server, 'db', 'load_metadefs', '--path',
                   str(tmp_path / 'empty'))
    assert 'holds no .json files' in stderr


def test_unload_leaves_the_catalog_as_a_new_database_has_it(server, admin,
                                                            tmp_path):
    ok(server, 'db', 'load_metadefs', '--path', SHIPPED_DIR)
    ok(server, 'db', 'load_metadefs', '--path',
       write(tmp_path, 'n.json', V2))
    out = ok(server, 'db', 'unload_metadefs')
    assert 'Unloaded 21 namespaces.' in out
    assert namespace_names(admin) == []
    types = admin.get('/v2/metadefs/resource_types').json()
    assert {t['name'] for t in types['resource_types']} == DEFAULT_TYPES
    # Loading again works, and the API can add to what was loaded.
    ok(server, 'db', 'load_metadefs', '--path', SHIPPED_DIR)
    response = admin.post(
        '/v2/metadefs/namespaces/OS::Compute::Watchdog/tags/extra')
    assert response.status_code == 201, response.text
    exported = by_namespace(export(server, tmp_path / 'out'))
    assert json.loads(exported['OS::Compute::Watchdog'])['tags'] == [
        {'name': 'extra'}]


def test_export_of_an_empty_catalog_writes_nothing(server, tmp_path):
    out = ok(server, 'db', 'export_metadefs', '--path',
             str(tmp_path / 'out'))
    assert 'Exported 0 namespaces' in out
    assert read_dir(tmp_path / 'out') == {}
