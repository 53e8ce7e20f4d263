"""The JSON schemas of the API and validation of image values."""

import json
import os

import jsonschema
import pytest

from glance.api.v2 import schemas
from glance.common import config
from glance.common import exception

UUID = '0a9a4a3c-8a63-4a4c-9f0c-7d0e8c1b2a3d'


def _clear():
    schemas.image_schema.cache_clear()
    schemas.images_schema.cache_clear()
    schemas._image_validator.cache_clear()


@pytest.fixture(autouse=True)
def fresh_schemas():
    """The schemas are cached; build them again from this test's CONF."""
    _clear()
    yield
    _clear()


@pytest.fixture
def schema_file(tmp_path, conf):
    """Write a schema-image.json and point schema_image_file at it."""
    def write(content):
        path = tmp_path / 'schema-image.json'
        path.write_text(content if isinstance(content, str)
                        else json.dumps(content))
        conf.config(schema_image_file=str(path))
        _clear()
        return path
    return write


def invalid(values):
    with pytest.raises(exception.BadRequest) as info:
        schemas.validate_image(values)
    assert info.value.code == 400
    return info.value.message


# -- base attributes ------------------------------------------------------

def test_valid_image():
    schemas.validate_image({
        'id': UUID, 'name': 'cirros', 'visibility': 'private',
        'protected': False, 'os_hidden': True, 'container_format': 'bare',
        'disk_format': 'qcow2', 'min_disk': 1, 'min_ram': 512,
        'tags': ['a', 'b'], 'owner': 'p1', 'os_distro': 'cirros'})


def test_empty_is_valid():
    schemas.validate_image({})


@pytest.mark.parametrize('name,value', [
    ('name', None), ('name', ''), ('name', 'x' * 255),
    ('owner', None), ('owner', 'x' * 255),
    ('container_format', None), ('disk_format', None),
    ('min_disk', 0), ('min_ram', 0), ('min_ram', 2 ** 31 - 1),
    ('min_disk', 2 ** 31 - 1),
    ('tags', []), ('tags', ['x' * 255]),
    ('protected', True), ('os_hidden', False),
    ('id', UUID.upper()),
])
def test_valid_base_values(name, value):
    schemas.validate_image({name: value})
    schemas.validate_image_property(name, value)


@pytest.mark.parametrize('value', ['public', 'private', 'shared',
                                   'community'])
def test_visibilities(value):
    schemas.validate_image({'visibility': value})


@pytest.mark.parametrize('value', ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova',
                                   'docker', 'compressed'])
def test_container_formats(value):
    schemas.validate_image({'container_format': value})


@pytest.mark.parametrize('value', ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk',
                                   'raw', 'qcow2', 'vdi', 'iso', 'ploop'])
def test_disk_formats(value):
    schemas.validate_image({'disk_format': value})


@pytest.mark.parametrize('name,value', [
    ('name', 1), ('name', 'x' * 256), ('name', ['n']),
    ('owner', 'x' * 256), ('owner', 5),
    ('visibility', 'bogus'), ('visibility', None), ('visibility', 'Public'),
    ('protected', 'true'), ('protected', 1), ('protected', None),
    ('os_hidden', 'yes'), ('os_hidden', None),
    ('min_disk', -1), ('min_disk', '1'), ('min_disk', 1.5),
    ('min_disk', None),
    ('min_ram', -1), ('min_ram', 'x'), ('min_ram', True),
    # Stored in 32-bit columns: the reference refuses more (400).
    ('min_ram', 2 ** 31), ('min_disk', 2 ** 31), ('min_disk', 2 ** 64),
    ('container_format', 'bogus'), ('container_format', ''),
    ('disk_format', 'bogus'), ('disk_format', 'QCOW2'),
    ('tags', 'a'), ('tags', [1]), ('tags', ['x' * 256]), ('tags', None),
    ('tags', [None]),
    ('id', 'not-a-uuid'), ('id', 1), ('id', UUID + 'a'),
])
def test_invalid_base_values(name, value):
    message = invalid({name: value})
    assert name in message
    with pytest.raises(exception.BadRequest):
        schemas.validate_image_property(name, value)


def test_message_names_the_attribute():
    assert invalid({'min_ram': -1}).startswith("Invalid value for 'min_ram'")
    assert "'tags/1'" in invalid({'tags': ['ok', 5]})


def test_readonly_attributes_are_marked():
    properties = schemas.image_schema()['properties']
    for name in ('status', 'checksum', 'os_hash_algo', 'os_hash_value',
                 'size', 'virtual_size', 'created_at', 'updated_at',
                 'direct_url', 'self', 'file', 'schema', 'stores'):
        assert properties[name]['readOnly'] is True, name
    for name in ('name', 'visibility', 'protected', 'os_hidden', 'tags',
                 'min_ram', 'min_disk', 'container_format', 'disk_format',
                 'owner'):
        assert 'readOnly' not in properties[name], name


def test_status_enum():
    enum = schemas.image_schema()['properties']['status']['enum']
    assert set(enum) == {'queued', 'saving', 'active', 'killed', 'deleted',
                         'uploading', 'importing', 'pending_delete',
                         'deactivated'}


def test_locations():
    schemas.validate_image({'locations': [
        {'url': 'file:///x', 'metadata': {}},
        {'url': 'http://x', 'metadata': {'store': 'fast'},
         'validation_data': {'os_hash_algo': 'sha512',
                             'os_hash_value': 'ab'}}]})
    invalid({'locations': [{'url': 'u'}]})
    invalid({'locations': [{'metadata': {}}]})
    invalid({'locations': [{'url': 'u', 'metadata': {},
                            'validation_data': {'os_hash_algo': 'sha512'}}]})
    invalid({'locations': [{'url': 'u', 'metadata': {},
                            'validation_data': {
                                'os_hash_algo': 'sha512',
                                'os_hash_value': 'ab', 'other': 1}}]})
    invalid({'locations': 'file:///x'})


# -- extra properties -----------------------------------------------------

@pytest.mark.parametrize('value', ['debian', '', 'x' * 10000, '\u2713'])
def test_extra_string_properties_are_allowed(value):
    schemas.validate_image({'os_distro': value, 'any_key': value})
    schemas.validate_image_property('hw_disk_bus', value)


@pytest.mark.parametrize('value', [1, 1.5, True, None, [], ['a'], {},
                                   {'k': 'v'}])
def test_extra_non_string_properties_are_refused(value):
    assert 'os_distro' in invalid({'os_distro': value})


def test_permissive_schema():
    schema = schemas.image_schema()
    assert schema['name'] == 'image'
    assert schema['additionalProperties'] == {'type': 'string'}
    assert 'required' not in schema
    assert [link['rel'] for link in schema['links']] == [
        'self', 'enclosure', 'describedby']


# -- configuration --------------------------------------------------------

def test_disk_formats_come_from_config(conf):
    conf.config(disk_formats=['raw', 'qcow2'], group='image_format')
    conf.config(container_formats=['bare'], group='image_format')
    _clear()
    schemas.validate_image({'disk_format': 'raw', 'container_format': 'bare'})
    invalid({'disk_format': 'vmdk'})
    invalid({'container_format': 'ovf'})
    enum = schemas.image_schema()['properties']['disk_format']['enum']
    assert enum == [None, 'raw', 'qcow2']


def test_no_operator_file_by_default():
    assert schemas._operator_file() is None
    assert schemas._operator_properties() == ({}, [])


def test_operator_file_merged(schema_file):
    schema_file({
        'os_distro': {'type': 'string', 'enum': ['debian', 'ubuntu'],
                      'description': 'OS'},
        'kernel_id': {'type': ['null', 'string'],
                      'pattern': schemas.UUID_PATTERN},
        'hw_cpu_cores': {'type': 'integer', 'minimum': 1},
    })
    properties = schemas.image_schema()['properties']
    assert properties['os_distro']['enum'] == ['debian', 'ubuntu']
    assert properties['os_distro']['is_base'] is False
    assert properties['kernel_id']['is_base'] is False
    # The base attributes are still there.
    assert properties['name']['maxLength'] == 255
    schemas.validate_image({'os_distro': 'debian', 'kernel_id': UUID,
                            'hw_cpu_cores': 4})
    schemas.validate_image({'kernel_id': None})
    assert 'os_distro' in invalid({'os_distro': 'windows'})
    assert 'kernel_id' in invalid({'kernel_id': 'nope'})
    assert 'hw_cpu_cores' in invalid({'hw_cpu_cores': 0})
    # Properties the file does not name stay permissive strings.
    schemas.validate_image({'other': 'x'})
    invalid({'other': 1})
    # The collection schema holds the same item schema.
    images = schemas.images_schema()
    assert images['properties']['images']['items'] == \
        schemas.image_schema()


def test_operator_file_is_base_kept(schema_file):
    schema_file({'x': {'type': 'string', 'is_base': True}})
    assert schemas.image_schema()['properties']['x']['is_base'] is True


def test_operator_file_cannot_change_base_attributes(schema_file):
    schema_file({'name': {'type': 'integer'},
                 'min_ram': {'type': 'string'}})
    schemas.validate_image({'name': 'still a string', 'min_ram': 5})
    invalid({'name': 5})


def test_operator_file_with_properties_and_required(schema_file):
    schema_file({'properties': {'os_distro': {'type': 'string'},
                                'os_version': {'type': 'string'}},
                 'required': ['os_distro']})
    schema = schemas.image_schema()
    assert schema['required'] == ['os_distro']
    assert 'os_version' in schema['properties']
    assert 'required' not in schema['properties']
    # Required is for create only: PATCH-style checks do not need it.
    schemas.validate_image({'os_version': '12'})
    schemas.validate_image_property('name', 'x')
    schemas.check_required({'os_distro': 'debian'})
    with pytest.raises(exception.BadRequest) as info:
        schemas.check_required({'name': 'x'})
    assert 'os_distro' in info.value.message


def test_required_list_in_flat_file(schema_file):
    schema_file({'os_distro': {'type': 'string'},
                 'required': ['os_distro', 'os_version']})
    assert schemas.image_schema()['required'] == ['os_distro', 'os_version']
    with pytest.raises(exception.BadRequest) as info:
        schemas.check_required({})
    assert 'os_distro, os_version' in info.value.message


def test_check_required_without_required():
    schemas.check_required({})


def test_empty_operator_file(schema_file):
    schema_file({})
    assert schemas._operator_properties() == ({}, [])
    assert 'required' not in schemas.image_schema()


def test_shipped_operator_file_is_valid(schema_file):
    shipped = os.path.join(os.path.dirname(schemas.__file__), '..', '..',
                           '..', 'etc', 'schema-image.json')
    with open(shipped) as f:
        schema_file(f.read())
    schemas.image_schema()


@pytest.mark.parametrize('content', ['{not json', '[1, 2]', '"x"'])
def test_bad_operator_file(schema_file, content):
    schema_file(content)
    with pytest.raises(RuntimeError):
        schemas.image_schema()


def test_missing_operator_file(conf, tmp_path):
    conf.config(schema_image_file=str(tmp_path / 'absent.json'))
    with pytest.raises(RuntimeError):
        schemas.image_schema()


def test_operator_file_next_to_the_config(conf, tmp_path):
    (tmp_path / 'schema-image.json').write_text(json.dumps(
        {'os_distro': {'type': 'string', 'enum': ['debian']}}))
    conf.config(config_dir=[str(tmp_path)])
    assert config.config_dir() == str(tmp_path)
    assert schemas._operator_file() == str(tmp_path / 'schema-image.json')
    invalid({'os_distro': 'ubuntu'})


def test_config_dir_without_operator_file(conf, tmp_path):
    conf.config(config_dir=[str(tmp_path)])
    assert schemas._operator_file() is None


def test_config_file_directory_wins(conf, tmp_path):
    conf_file = tmp_path / 'glance-api.conf'
    conf_file.write_text('')
    conf.config(config_file=[str(conf_file)],
                config_dir=[str(tmp_path / 'elsewhere')])
    assert config.config_dir() == str(tmp_path)


# -- the other schemas ----------------------------------------------------

@pytest.mark.parametrize('name', sorted(schemas.SCHEMAS))
def test_every_schema_is_a_valid_json_schema(name):
    schema = schemas.SCHEMAS[name]()
    assert schema['name'] == name
    jsonschema.Draft4Validator.check_schema(schema)
    json.dumps(schema)


def test_schema_names():
    assert set(schemas.SCHEMAS) == {'image', 'images', 'member', 'members',
                                    'task', 'tasks'}


def test_collections():
    for name, item in (('images', 'image'), ('tasks', 'task')):
        schema = schemas.SCHEMAS[name]()
        assert schema['properties'][name]['items'] == \
            schemas.SCHEMAS[item]()
        assert {'first', 'next', 'schema'} <= set(schema['properties'])
    members = schemas.members_schema()
    assert members['properties']['members']['items'] == \
        schemas.member_schema()
    assert 'next' not in members['properties']


def test_image_schema_is_cached_but_validation_does_not_change_it():
    first = schemas.image_schema()
    schemas.validate_image({'name': 'x'})
    assert schemas.image_schema() is first
    assert 'type' not in first
