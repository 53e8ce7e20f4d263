"""The metadata definition file format, and the files the project ships."""

import json
import os

import pytest

from glance.api.v2 import metadef_schemas
from glance.common import metadef_files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SHIPPED_DIR = os.path.join(ROOT, 'etc', 'metadefs')
SHIPPED = sorted(name for name in os.listdir(SHIPPED_DIR)
                 if name.endswith('.json'))

# Namespaces that operator tooling (Horizon, the compute service's
# documentation) looks up by name.
EXPECTED_NAMESPACES = {
    'OS::Compute::CPUPinning', 'OS::Compute::VirtCPUTopology',
    'OS::Compute::Hypervisor', 'OS::Compute::Watchdog',
    'OS::Compute::RandomNumberGenerator', 'OS::Compute::Quota',
    'OS::Compute::LibvirtImage', 'OS::Compute::InstanceData',
    'OS::OperatingSystem', 'OS::Glance::CommonImageProperties',
}


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_the_project_ships_a_dozen_or_more_namespaces():
    assert len(SHIPPED) >= 12
    names = {metadef_files.read_file(os.path.join(SHIPPED_DIR, n))
             ['namespace'] for n in SHIPPED}
    assert EXPECTED_NAMESPACES <= names


@pytest.mark.parametrize('name', SHIPPED)
def test_shipped_file_is_a_loadable_namespace(name):
    path = os.path.join(SHIPPED_DIR, name)
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    metadef_files.check(path, data)
    assert data['visibility'] == 'public' or data['namespace'] in (
        'OS::Glance::CommonImageProperties',)
    for definition in data['properties'].values():
        assert {'title', 'type', 'description'} <= set(definition)
    for item in data['objects']:
        for definition in item['properties'].values():
            assert {'title', 'type', 'description'} <= set(definition)
    assert data['properties'] or data['objects']


@pytest.mark.parametrize('name', SHIPPED)
def test_shipped_file_passes_the_api_schemas(name):
    """What is shipped is what POST /v2/metadefs/namespaces would take."""
    with open(os.path.join(SHIPPED_DIR, name), encoding='utf-8') as f:
        data = json.load(f)
    metadef_schemas.validate('namespace', data, read_only=())
    definitions = list(data['properties'].values())
    for item in data['objects']:
        metadef_schemas.validate('object', item, read_only=())
        definitions.extend(item['properties'].values())
    for definition in definitions:
        metadef_schemas.validate('property', definition, read_only=(),
                                 require_name=False)
        # Nothing the API would drop when it serves the definition.
        assert set(definition) <= metadef_schemas.PROPERTY_KEYS
    for association in data['resource_type_associations']:
        metadef_schemas.validate('resource_type', association,
                                 read_only=())
    for tag in data['tags']:
        metadef_schemas.validate('tag', tag, read_only=())


@pytest.mark.parametrize('name', SHIPPED)
def test_shipped_file_is_in_the_export_layout(name):
    """Shipped files are written exactly as export_metadefs writes them, so
    that exporting freshly loaded definitions gives the same bytes."""
    path = os.path.join(SHIPPED_DIR, name)
    with open(path, encoding='utf-8') as f:
        text = f.read()
    assert metadef_files.dumps(metadef_files.read_file(path)) == text


def test_shipped_files_are_in_setup_cfg_data_files():
    with open(os.path.join(ROOT, 'setup.cfg')) as f:
        setup_cfg = f.read()
    assert 'etc/glance/metadefs = etc/metadefs/*\n' in setup_cfg


def test_missing_keys_get_the_api_defaults(tmp_path):
    path = _write(tmp_path, 'a.json', {'namespace': 'N'})
    assert metadef_files.read_file(path) == {
        'namespace': 'N', 'display_name': None, 'description': None,
        'visibility': 'private', 'protected': False, 'owner': 'admin',
        'resource_type_associations': [], 'properties': {}, 'objects': [],
        'tags': []}


def test_a_reference_style_file_reads_unchanged(tmp_path):
    data = {
        'namespace': 'OS::Compute::Example', 'display_name': 'Example',
        'description': 'd', 'visibility': 'public', 'protected': True,
        'resource_type_associations': [
            {'name': 'OS::Nova::Flavor', 'prefix': 'hw:'},
            {'name': 'OS::Cinder::Volume', 'prefix': 'hw_',
             'properties_target': 'image'}],
        'properties': {'p': {'title': 'P', 'type': 'string',
                             'enum': ['a', 'b']}},
        'objects': [{'name': 'O', 'description': 'od',
                     'properties': {'q': {'title': 'Q',
                                          'type': 'integer'}}}],
        'tags': [{'name': 't1'}, {'name': 't2'}]}
    namespace = metadef_files.read_file(_write(tmp_path, 'x.json', data))
    assert namespace['resource_type_associations'][1] == {
        'name': 'OS::Cinder::Volume', 'prefix': 'hw_',
        'properties_target': 'image'}
    assert namespace['resource_type_associations'][0][
        'properties_target'] is None
    assert namespace['objects'] == [
        {'name': 'O', 'description': 'od', 'required': [],
         'properties': {'q': {'title': 'Q', 'type': 'integer'}}}]
    assert metadef_files.to_document(namespace) == data


@pytest.mark.parametrize('text, message', [
    ('{"namespace": ', 'is not valid JSON'),
    ('\xff\xfe', 'is not valid JSON'),
    ('[]', "at the top level: [] is not of type 'object'"),
    ('{}', "'namespace' is a required property"),
    ('{"namespace": ""}', 'at namespace'),
    ('{"namespace": "%s"}' % ('n' * 81), 'at namespace'),
    ('{"namespace": "n", "visibility": "shared"}', 'at visibility'),
    ('{"namespace": "n", "protected": "yes"}', 'at protected'),
    ('{"namespace": "n", "properties": []}', 'at properties'),
    ('{"namespace": "n", "properties": {"p": "string"}}', 'at properties/p'),
    ('{"namespace": "n", "objects": [{"description": "d"}]}',
     'at objects/0'),
    ('{"namespace": "n", "tags": ["t"]}', 'at tags/0'),
    ('{"namespace": "n", "tags": [{"name": "t"}, {"name": "t"}]}',
     'tags t appear more than once'),
    ('{"namespace": "n", "objects": [{"name": "o"}, {"name": "o"}]}',
     'objects o appear more than once'),
    ('{"namespace": "n", "resource_type_associations": '
     '[{"name": "R"}, {"name": "R"}]}', 'resource types R appear more'),
    ('{"namespace": "n", "resource_type_associations": [{"prefix": "x"}]}',
     'at resource_type_associations/0'),
])
def test_a_malformed_file_is_named_with_what_is_wrong(tmp_path, text,
                                                      message):
    path = tmp_path / 'bad.json'
    path.write_bytes(text.encode('latin-1'))
    with pytest.raises(metadef_files.DefinitionFileError) as raised:
        metadef_files.read_file(str(path))
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_property_check_sees_namespace_and_object_properties(tmp_path):
    seen = []

    def property_check(definition):
        seen.append(definition['title'])
        if definition['title'] == 'bad':
            raise ValueError('no good')

    data = {'namespace': 'n',
            'properties': {'p': {'title': 'ok'}},
            'objects': [{'name': 'o', 'properties': {'q': {'title': 'bad'}}}]}
    with pytest.raises(metadef_files.DefinitionFileError) as raised:
        metadef_files.read_file(_write(tmp_path, 'a.json', data),
                                property_check)
    assert seen == ['ok', 'bad']
    assert 'at objects/0/properties/q: no good' in str(raised.value)


def test_read_all_reads_json_files_in_name_order(tmp_path):
    _write(tmp_path, 'b.json', {'namespace': 'B'})
    _write(tmp_path, 'a.json', {'namespace': 'A'})
    _write(tmp_path, 'README', 'not json')
    (tmp_path / 'sub.json').mkdir()
    names = [n['namespace'] for n in metadef_files.read_all(str(tmp_path))]
    assert names == ['A', 'B']
    # A single file may be given too.
    single = metadef_files.read_all(str(tmp_path / 'b.json'))
    assert [n['namespace'] for n in single] == ['B']


def test_read_all_refuses_a_namespace_defined_twice(tmp_path):
    _write(tmp_path, 'a.json', {'namespace': 'A'})
    _write(tmp_path, 'b.json', {'namespace': 'A'})
    with pytest.raises(metadef_files.DefinitionFileError,
                       match='namespace A is also defined in .*a.json'):
        metadef_files.read_all(str(tmp_path))


def test_read_all_stops_at_the_first_bad_file(tmp_path):
    _write(tmp_path, 'a.json', {'namespace': 'A'})
    _write(tmp_path, 'b.json', '{broken')
    with pytest.raises(metadef_files.DefinitionFileError, match='b.json'):
        metadef_files.read_all(str(tmp_path))


@pytest.mark.parametrize('make, message', [
    (lambda p: str(p / 'missing'), 'no such file or directory'),
    (lambda p: str(p), 'holds no .json files'),
])
def test_read_all_refuses_an_empty_or_missing_path(tmp_path, make,
                                                   message):
    with pytest.raises(metadef_files.DefinitionFileError, match=message):
        metadef_files.read_all(make(tmp_path))


@pytest.mark.parametrize('display_name, taken, expected', [
    ('CPU Pinning', (), 'CPUPinning.json'),
    ('libvirt Driver Options for Images', (),
     'libvirtDriverOptionsforImages.json'),
    ('a_b-c', (), 'abc.json'),
    (None, (), 'OSComputeX.json'),
    ('!!!', (), 'OSComputeX.json'),
    ('X', ('X.json',), 'OSComputeX.json'),
    ('X', ('X.json', 'OSComputeX.json'), 'OSComputeX-2.json'),
])
def test_export_file_names(display_name, taken, expected):
    namespace = {'namespace': 'OS::Compute::X', 'display_name': display_name}
    assert metadef_files.file_name(namespace, taken) == expected


def test_write_all_then_read_all_gives_the_same_namespaces(tmp_path):
    namespaces = [metadef_files.read_file(os.path.join(SHIPPED_DIR, name))
                  for name in SHIPPED]
    written = metadef_files.write_all(str(tmp_path / 'out'), namespaces)
    assert len(written) == len(namespaces)
    again = metadef_files.read_all(str(tmp_path / 'out'))
    key = lambda n: n['namespace']  # noqa: E731
    assert sorted(again, key=key) == sorted(namespaces, key=key)


def test_write_all_reports_a_directory_it_cannot_create(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(metadef_files.DefinitionFileError,
                       match='cannot be created'):
        metadef_files.write_all(str(blocker / 'sub'), [])


@pytest.mark.parametrize('definition, message', [
    ({'type': 'string'}, "'title' is a required property"),
    ({'title': 'T'}, "'type' is a required property"),
    ({'title': 'T', 'type': 'str'}, "Invalid value for 'type'"),
    ({'title': 'T', 'type': 'string', 'minLength': -1},
     "Invalid value for 'minLength'"),
    ({'title': 'T', 'type': 'string', 'pattern': '('},
     "Invalid value for 'pattern'"),
    ({'title': 'T', 'type': 'string', 'unknown': 1},
     'Additional properties are not allowed'),
])
def test_glance_manage_checks_definitions_against_the_api(tmp_path,
                                                          definition,
                                                          message):
    from glance.cmd import manage

    _write(tmp_path, 'a.json', {'namespace': 'A', 'objects': [
        {'name': 'o', 'properties': {'p': definition}}]})
    with pytest.raises(metadef_files.DefinitionFileError) as raised:
        metadef_files.read_all(str(tmp_path), manage._property_check)
    assert 'a.json: at objects/0/properties/p: ' in str(raised.value)
    assert message in str(raised.value)


def test_default_path(tmp_path, monkeypatch):
    assert metadef_files.default_path('/x') == '/x'
    monkeypatch.setattr(metadef_files, 'SYSTEM_PATH', str(tmp_path / 'no'))
    # In a checkout (or an installed package), the shipped definitions.
    path = metadef_files.default_path(None)
    assert os.path.samefile(path, SHIPPED_DIR) or path.endswith(
        os.path.join('etc', 'glance', 'metadefs'))
    monkeypatch.setattr(metadef_files, 'SYSTEM_PATH', str(tmp_path))
    assert metadef_files.default_path('') == str(tmp_path)
