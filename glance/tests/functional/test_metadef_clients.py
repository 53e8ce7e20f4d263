"""python-glanceclient's metadefs calls (what `glance md-*` runs) and
openstacksdk's metadef calls, unmodified, against glance-api on each
database. Without Keystone the clients act as the default identity,
an admin.
"""

import uuid

import glanceclient
from glanceclient import exc as gc_exc
import openstack
from openstack import exceptions as sdk_exc
import pytest


@pytest.fixture
def gc(api_server_each_db):
    return glanceclient.Client('2', endpoint=api_server_each_db.url,
                               token='x')


@pytest.fixture
def sdk(api_server_each_db):
    conn = openstack.connect(auth_type='none',
                             image_endpoint_override=api_server_each_db.url,
                             load_yaml_config=False, load_envvars=False)
    yield conn
    conn.close()


def _name(prefix):
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


def test_glanceclient_namespace_lifecycle(gc):
    name = _name('gc')
    created = gc.metadefs_namespace.create(
        namespace=name, display_name='GC', visibility='public',
        protected=True)
    assert created['namespace'] == name and created['protected'] is True
    listed = [ns['namespace'] for ns in gc.metadefs_namespace.list()]
    assert name in listed

    # md-namespace-update: the client sends back what it read.
    updated = gc.metadefs_namespace.update(name, description='changed',
                                           protected=False)
    assert updated['description'] == 'changed'
    assert updated['protected'] is False

    # md-resource-type-associate / -list / -deassociate
    gc.metadefs_resource_type.associate(name, name='OS::Glance::Image',
                                        prefix='gc_')
    types = {t['name'] for t in gc.metadefs_resource_type.list()}
    assert 'OS::Glance::Image' in types
    associated = list(gc.metadefs_resource_type.get(name))
    assert [(a['name'], a['prefix']) for a in associated] == \
        [('OS::Glance::Image', 'gc_')]

    # md-property-create / -show / -update / -list
    prop = gc.metadefs_property.create(name, name='os_distro',
                                       title='Distro', type='string')
    assert prop['name'] == 'os_distro'
    prop = gc.metadefs_property.update(name, 'os_distro', title='OS',
                                       name='os_distro', type='string')
    assert prop['title'] == 'OS'
    assert [p['name'] for p in gc.metadefs_property.list(name)] == \
        ['os_distro']
    shown = gc.metadefs_namespace.get(name, resource_type='OS::Glance::Image')
    assert 'gc_os_distro' in shown['properties']

    # md-object-create / -update / -show / -list
    obj = gc.metadefs_object.create(name, name='Limits', properties={
        'quota': {'title': 'Quota', 'type': 'integer'}})
    assert obj['name'] == 'Limits'
    obj = gc.metadefs_object.update(name, 'Limits', name='Limits2')
    assert obj['name'] == 'Limits2'
    assert [o['name'] for o in gc.metadefs_object.list(name)] == ['Limits2']

    # md-tag-create / -create-multiple / -update / -list
    # (glanceclient's append=True sends a bool header its own encoder
    # cannot quote, so it replaces here.)
    gc.metadefs_tag.create(name, 'zero')
    created_tags = list(gc.metadefs_tag.create_multiple(
        name, tags=['one', 'two']))
    assert [t['name'] for t in created_tags] == ['one', 'two']
    gc.metadefs_tag.update(name, 'one', name='uno')
    assert sorted(t['name'] for t in gc.metadefs_tag.list(name)) == \
        ['two', 'uno']

    # The delete-all calls, then the namespace itself.
    gc.metadefs_tag.delete_all(name)
    gc.metadefs_object.delete_all(name)
    gc.metadefs_property.delete_all(name)
    gc.metadefs_resource_type.deassociate(name, 'OS::Glance::Image')
    shown = gc.metadefs_namespace.get(name)
    for key in ('tags', 'objects', 'properties',
                'resource_type_associations'):
        assert key not in shown
    gc.metadefs_namespace.delete(name)
    with pytest.raises(gc_exc.HTTPNotFound):
        gc.metadefs_namespace.get(name)


def test_glanceclient_refuses_bad_definitions(gc):
    name = _name('gc-bad')
    gc.metadefs_namespace.create(namespace=name)
    try:
        # Checked against the served schema by the client itself ...
        with pytest.raises(TypeError):
            gc.metadefs_property.create(name, name='p', title='P',
                                        type='color')
        # ... and by the server.
        with pytest.raises(gc_exc.HTTPConflict):
            list(gc.metadefs_tag.create_multiple(name, tags=['a', 'a']))
        assert list(gc.metadefs_tag.list(name)) == []
    finally:
        gc.metadefs_namespace.delete(name)


def test_sdk_metadef_lifecycle(sdk):
    name = _name('sdk')
    ns = sdk.image.create_metadef_namespace(
        namespace=name, visibility='public', display_name='SDK')
    assert ns.namespace == name and ns.visibility == 'public'
    assert name in [n.namespace for n in sdk.image.metadef_namespaces()]
    ns = sdk.image.update_metadef_namespace(name, namespace=name,
                                            description='sdk')
    assert sdk.image.get_metadef_namespace(name).description == 'sdk'

    types = [t.name for t in sdk.image.metadef_resource_types()]
    assert 'OS::Nova::Flavor' in types
    sdk.image.create_metadef_resource_type_association(
        name, name='OS::Nova::Flavor', prefix='hw:')
    assert [a.name for a in
            sdk.image.metadef_resource_type_associations(name)] == \
        ['OS::Nova::Flavor']

    prop = sdk.image.create_metadef_property(
        name, name='cpu_policy', title='CPU policy', type='string',
        enum=['shared', 'dedicated'])
    assert prop.name == 'cpu_policy'
    prop = sdk.image.get_metadef_property('cpu_policy', name)
    assert prop.enum == ['shared', 'dedicated']
    assert [p.name for p in sdk.image.metadef_properties(name)] == \
        ['cpu_policy']

    obj = sdk.image.create_metadef_object(name, name='Watchdog',
                                          description='w')
    assert obj.name == 'Watchdog'
    assert sdk.image.get_metadef_object('Watchdog', name).description == 'w'
    assert [o.name for o in sdk.image.metadef_objects(name)] == ['Watchdog']
    sdk.image.delete_metadef_object('Watchdog', name)
    assert list(sdk.image.metadef_objects(name)) == []

    sdk.image.add_tag_to_metadef_namespace(name, 'fast')
    assert [t['name'] for t in sdk.image.get_metadef_namespace(name).tags] \
        == ['fast']
    sdk.image.remove_tags_from_metadef_namespace(name)

    schema = sdk.image.get_metadef_namespace_schema()
    assert schema.name == 'namespace'
    assert sdk.image.get_metadef_tags_schema().name == 'tags'

    sdk.image.delete_all_metadef_properties(name)
    sdk.image.delete_metadef_resource_type_association('OS::Nova::Flavor',
                                                       name)
    sdk.image.delete_metadef_namespace(name)
    with pytest.raises(sdk_exc.NotFoundException):
        sdk.image.get_metadef_namespace(name)
