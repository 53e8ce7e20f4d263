"""Every rule of the reference's policy table, with its default.

doc/source/admin/policies.rst, "The defaults": A = admin, PM = member of
the owning project, PR = reader of the owning project, SVC =
service_api. Each row is checked by enforcing the rule for each kind of
caller.
"""

import pytest

from glance.api import policy as api_policy
from glance.common import exception
from glance import context
from glance.domain import image as domain
from glance import policies

OWNER = 'owner'

CALLERS = {
    'admin': ('elsewhere', ['admin']),
    'member': (OWNER, ['member', 'reader']),
    'reader': (OWNER, ['reader']),
    'other-member': ('elsewhere', ['member', 'reader']),
    'service': ('service-project', ['service']),
}

A = {'admin'}
A_PM = {'admin', 'member'}
A_PR = {'admin', 'member', 'reader'}
SVC = {'admin', 'service'}
SVC_PM = {'admin', 'service', 'member'}
ANYONE = set(CALLERS)

# rule -> callers allowed on a private image of OWNER
TABLE = {
    'default': ANYONE,
    'add_image': A_PM,
    'get_image': A_PR,
    'get_images': A_PR,
    'modify_image': A_PM, 'delete_image': A_PM, 'upload_image': A_PM,
    'publicize_image': A,
    'communitize_image': A_PM,
    'download_image': A_PM, 'download_from_store': A_PM,
    'get_image_location': A_PR, 'set_image_location': A_PM,
    'delete_image_location': A,
    'add_image_location': SVC_PM,
    'fetch_image_location': SVC,
    'add_member': A_PM, 'delete_member': A_PM,
    'get_member': A_PR, 'get_members': A_PR,
    'modify_member': A,  # and the member itself: test_policies.py
    'deactivate': A_PM, 'reactivate': A_PM,
    'copy_image': A,
    'manage_image_cache': A, 'cache_image': A, 'cache_list': A,
    'cache_delete': A, 'cache_clean': A, 'cache_prune': A,
    'list_cached_nodes': A,
    'stores_info_detail': SVC,
    'tasks_api_access': A,
    'get_task': ANYONE, 'get_tasks': ANYONE, 'add_task': ANYONE,
    'modify_task': ANYONE,
    'metadef_default': ANYONE, 'metadef_admin': A,
    'get_metadef_namespace': A_PR, 'get_metadef_namespaces': A_PR,
    'get_metadef_object': A_PR, 'get_metadef_objects': A_PR,
    'get_metadef_property': A_PR, 'get_metadef_properties': A_PR,
    'get_metadef_tag': A_PR, 'get_metadef_tags': A_PR,
    'get_metadef_resource_type': A_PR, 'list_metadef_resource_types': A_PR,
    'add_metadef_namespace': A, 'modify_metadef_namespace': A,
    'delete_metadef_namespace': A, 'add_metadef_object': A,
    'modify_metadef_object': A, 'delete_metadef_object': A,
    'add_metadef_property': A, 'modify_metadef_property': A,
    'remove_metadef_property': A, 'add_metadef_tag': A,
    'add_metadef_tags': A, 'modify_metadef_tag': A,
    'delete_metadef_tag': A, 'delete_metadef_tags': A,
    'add_metadef_resource_type_association': A,
    'remove_metadef_resource_type_association': A,
}


def caller(name):
    project, roles = CALLERS[name]
    return context.RequestContext(project_id=project, user_id='u',
                                  roles=roles)


def target(visibility='private'):
    return {'project_id': OWNER, 'owner': OWNER, 'visibility': visibility,
            'image_id': 'i', 'member_id': None}


def test_table_covers_every_registered_rule():
    registered = {rule.name for rule in policies.list_rules()}
    # context_is_admin and service_api are the building blocks; the
    # extra rules are this service's own names for its operations.
    extra = {'context_is_admin', 'service_api', 'import_image',
             'get_image_tasks'}
    assert registered - extra == set(TABLE)


@pytest.mark.parametrize('rule', sorted(TABLE))
def test_default(rule):
    enforcer = policies.get_enforcer()
    allowed = {name for name in CALLERS
               if enforcer.enforce(rule, target(), caller(name))}
    assert allowed == TABLE[rule]


@pytest.mark.parametrize('visibility', ['public', 'community', 'shared'])
def test_reachable_images(visibility):
    enforcer = policies.get_enforcer()
    other = caller('other-member')
    assert enforcer.enforce('get_image', target(visibility), other)
    assert enforcer.enforce('download_image', target(visibility), other)
    assert not enforcer.enforce('modify_image', target(visibility), other)


def test_public_metadef_namespace_is_readable():
    enforcer = policies.get_enforcer()
    assert enforcer.enforce('get_metadef_namespace', target('public'),
                            caller('other-member'))


def test_system_scoped_token_is_refused_not_an_error():
    system = context.RequestContext(user_id='u', roles=['admin'],
                                    system_scope='all')
    checker = api_policy.Enforcer(system)
    assert not checker.check('get_images', {'project_id': None})


class FakeImages:
    def __init__(self, image, member_status=None):
        self.image = image
        self.status = member_status

    def get(self, image_id):
        return self.image

    def member_status(self, image_id):
        return self.status

    def list(self, **kwargs):
        return [self.image]


def proxy(name, visibility='private', member_status=None):
    image = domain.Image(id='i', owner=OWNER, visibility=visibility,
                         status='active')
    return api_policy.ImageRepoProxy(FakeImages(image, member_status),
                                     caller(name))


def test_refused_read_is_404_refused_write_is_403():
    with pytest.raises(exception.NotFound):
        proxy('other-member').get('i', rule='get_image')
    with pytest.raises(exception.Forbidden):
        proxy('reader').get('i', rule='modify_image')
    with pytest.raises(exception.Forbidden):
        proxy('reader').get('i', rule='download_image')
    assert proxy('reader').get('i', rule='get_image').id == 'i'


def test_member_id_comes_from_the_membership():
    # A project the image is shared with reaches a shared image...
    assert proxy('other-member', 'shared', 'pending').get('i')
    assert proxy('other-member', 'shared', 'pending').get(
        'i', rule='download_image')
    # ... and the list is filtered by get_image.
    assert proxy('other-member', 'shared', 'accepted').list()
    assert not proxy('other-member', 'private').list()


def test_policy_sample_is_current(tmp_path):
    """etc/policy.yaml.sample is what tox -e genpolicy writes now."""
    import os

    from oslo_policy import generator

    etc = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc')
    path = tmp_path / 'policy.yaml.sample'
    generator._generate_sample(['glance'], str(path))
    with open(os.path.join(etc, 'policy.yaml.sample')) as f:
        assert f.read() == path.read_text(), \
            'etc/policy.yaml.sample is stale: run tox -e genpolicy'
