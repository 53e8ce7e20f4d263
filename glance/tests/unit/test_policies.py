"""Policy defaults in code, and enforcing them on request contexts."""

import types

import pytest
import yaml
from oslo_policy import generator
from oslo_policy import policy as oslo_policy

from glance.api import policy as api_policy
from glance.common import exception
from glance import context
from glance.domain import image as domain
from glance import policies

OWNER = 'owner-project'
OTHER = 'other-project'

# Rules the API's operations name; each must be registered with a
# default.
EXPECTED_RULES = (
    'context_is_admin', 'default', 'service_api',
    'add_image', 'get_image', 'get_images', 'modify_image',
    'publicize_image', 'communitize_image', 'delete_image', 'upload_image',
    'download_image', 'deactivate', 'reactivate', 'import_image',
    'copy_image', 'get_image_location', 'set_image_location',
    'delete_image_location', 'add_image_location', 'fetch_image_location',
    'get_image_tasks',
    'add_member', 'delete_member', 'get_member', 'get_members',
    'modify_member',
    'tasks_api_access', 'get_task', 'get_tasks', 'add_task', 'modify_task',
    'stores_info_detail', 'manage_image_cache', 'cache_image', 'cache_list',
    'cache_delete',
)


def ctx(project=OWNER, roles=('reader', 'member')):
    return context.RequestContext(project_id=project, user_id='u-' + project,
                                  roles=list(roles))


READER = ('reader',)
MEMBER = ('reader', 'member')
ADMIN = ('admin',)


def target(caller, visibility='private', owner=OWNER):
    """An image as a policy target, as the policy proxy describes it.

    member_id is the caller's project when that project is a member of
    the image; a shared image that a project can load at all is shared
    with it (the data layer hides it otherwise).
    """
    member = None
    if visibility == 'shared' and caller.project_id != owner:
        member = caller.project_id
    return {'project_id': owner, 'owner': owner, 'visibility': visibility,
            'image_id': '0a9a4a3c-8a63-4a4c-9f0c-7d0e8c1b2a3d',
            'member_id': member}


def allowed(rule, caller, visibility='private', owner=OWNER):
    return policies.get_enforcer().enforce(
        rule, target(caller, visibility, owner), caller)


# -- registration and samples ---------------------------------------------

def test_every_expected_rule_is_registered():
    names = [rule.name for rule in policies.list_rules()]
    assert len(names) == len(set(names)), 'duplicate rule names'
    missing = set(EXPECTED_RULES) - set(names)
    assert not missing
    enforcer = policies.get_enforcer()
    enforcer.load_rules()
    for name in names:
        assert name in enforcer.registered_rules
        assert name in enforcer.rules


def test_rules_are_documented():
    for rule in policies.list_rules():
        assert isinstance(rule, oslo_policy.RuleDefault)
        assert rule.description, rule.name
        # The check strings parse.
        oslo_policy._parser.parse_rule(rule.check_str)
        if isinstance(rule, oslo_policy.DocumentedRuleDefault):
            assert rule.scope_types == ['project'], rule.name
            for operation in rule.operations:
                assert operation['method'] in ('GET', 'POST', 'PUT',
                                               'PATCH', 'DELETE')
                assert operation['path'].startswith('/v2/'), rule.name


def test_rules_reference_only_known_rules():
    names = {rule.name for rule in policies.list_rules()}
    for rule in policies.list_rules():
        for token in rule.check_str.replace('(', ' ').replace(')', ' '). \
                split():
            if token.startswith('rule:'):
                assert token[5:] in names, (rule.name, token)


def test_get_enforcer_is_a_singleton_until_reset():
    first = policies.get_enforcer()
    assert policies.get_enforcer() is first
    policies.reset()
    assert policies.get_enforcer() is not first


def test_sample_generation(tmp_path):
    path = tmp_path / 'policy.yaml.sample'
    generator._generate_sample(['glance'], str(path))
    text = path.read_text()
    for name in EXPECTED_RULES:
        assert '#"%s":' % name in text
    # Uncommented, the sample is the defaults, in valid YAML.
    uncommented = '\n'.join(line[1:] for line in text.splitlines()
                            if line.startswith('#"'))
    rules = yaml.safe_load(uncommented)
    defaults = {rule.name: rule.check_str for rule in policies.list_rules()}
    assert rules == defaults


def test_sample_generation_entry_points():
    found = generator.get_policies_dict(['glance'])
    assert [r.name for r in found['glance']] == \
        [r.name for r in policies.list_rules()]


def test_effective_policy_generation(tmp_path):
    path = tmp_path / 'policy.yaml'
    generator._generate_policy('glance', str(path))
    rules = yaml.safe_load(path.read_text())
    assert rules['publicize_image'] == 'rule:context_is_admin'


# -- contexts -------------------------------------------------------------

@pytest.mark.parametrize('roles,is_admin', [
    (['admin'], True), (['Admin'], True), (['ADMIN', 'reader'], True),
    (['member', 'reader'], False), (['reader'], False), ([], False),
    (['administrator'], False)])
def test_context_is_admin(roles, is_admin):
    assert ctx(roles=roles).is_admin is is_admin


def test_roles_are_lower_cased():
    assert ctx(roles=['Member', 'READER', '']).roles == ['member', 'reader']


def test_admin_context():
    admin = context.admin_context()
    assert admin.is_admin
    assert allowed('modify_image', admin)
    assert allowed('copy_image', admin)


# -- image rules ----------------------------------------------------------

def test_reader_cannot_modify():
    reader = ctx(roles=READER)
    for rule in ('modify_image', 'delete_image', 'upload_image',
                 'deactivate', 'reactivate', 'import_image', 'add_member',
                 'delete_member'):
        assert not allowed(rule, reader), rule
    # ... but can see.
    assert allowed('get_image', reader)
    assert policies.get_enforcer().enforce(
        'get_images', {'project_id': OWNER, 'owner': OWNER}, reader)


def test_member_of_owning_project_can_modify():
    member = ctx(roles=MEMBER)
    for rule in ('modify_image', 'delete_image', 'upload_image',
                 'deactivate', 'reactivate', 'import_image',
                 'communitize_image', 'add_member', 'delete_member'):
        assert allowed(rule, member), rule


def test_member_role_alone_can_modify():
    # Roles are not implied without Keystone; member is what writes need.
    assert allowed('modify_image', ctx(roles=['member']))


@pytest.mark.parametrize('visibility', ['private', 'public', 'shared',
                                        'community'])
def test_member_of_other_project_cannot_modify(visibility):
    other = ctx(project=OTHER, roles=MEMBER)
    for rule in ('modify_image', 'delete_image', 'upload_image',
                 'deactivate', 'reactivate', 'import_image',
                 'communitize_image', 'add_member', 'delete_member'):
        assert not allowed(rule, other, visibility), (rule, visibility)


@pytest.mark.parametrize('visibility', ['private', 'public', 'shared',
                                        'community'])
def test_admin_can_modify_anything(visibility):
    admin = ctx(project=OTHER, roles=ADMIN)
    for rule in ('modify_image', 'delete_image', 'deactivate',
                 'publicize_image', 'copy_image', 'download_image',
                 'get_image'):
        assert allowed(rule, admin, visibility), rule


@pytest.mark.parametrize('roles,expected', [(ADMIN, True), (MEMBER, False),
                                            (READER, False),
                                            (('member', 'service'), False)])
def test_publicize_image_is_admin_only(roles, expected):
    assert allowed('publicize_image', ctx(roles=roles)) is expected


@pytest.mark.parametrize('roles,expected', [(ADMIN, True), (MEMBER, False)])
def test_copy_image_is_admin_only(roles, expected):
    assert allowed('copy_image', ctx(roles=roles)) is expected


def test_download_needs_member_role():
    # doc/source/api-notes.rst, api-notes-reader-download.
    assert not allowed('download_image', ctx(roles=READER))
    assert allowed('download_image', ctx(roles=MEMBER))
    assert allowed('download_image', ctx(roles=['member']))
    assert not allowed('download_image',
                       ctx(project=OTHER, roles=READER), 'public')


@pytest.mark.parametrize('visibility,expected', [
    ('public', True), ('community', True), ('shared', True),
    ('private', False)])
def test_download_by_other_project(visibility, expected):
    other = ctx(project=OTHER, roles=MEMBER)
    assert allowed('download_image', other, visibility) is expected


@pytest.mark.parametrize('visibility,expected', [
    ('public', True), ('community', True), ('shared', True),
    ('private', False)])
def test_get_image_by_other_project(visibility, expected):
    other = ctx(project=OTHER, roles=READER)
    assert allowed('get_image', other, visibility) is expected


def test_image_target_of_the_proxy():
    image = domain.Image(id='i', owner=OWNER, visibility='shared')
    got = api_policy.image_target(image)
    assert got['project_id'] == got['owner'] == OWNER
    assert got['visibility'] == 'shared'
    assert got.get('member_id') is None


def test_unknown_role_gets_nothing():
    stranger = ctx(roles=['bogus'])
    for rule in ('get_image', 'modify_image', 'download_image',
                 'delete_image', 'add_member', 'get_members'):
        assert not allowed(rule, stranger, 'public'), rule
    assert not policies.get_enforcer().enforce(
        'get_images', {'project_id': OWNER, 'owner': OWNER}, stranger)


def test_add_image():
    enforce = policies.get_enforcer().enforce
    own = {'project_id': OWNER, 'owner': OWNER}
    foreign = {'project_id': OTHER, 'owner': OTHER}
    assert enforce('add_image', own, ctx(roles=MEMBER))
    assert not enforce('add_image', own, ctx(roles=READER))
    assert not enforce('add_image', foreign, ctx(roles=MEMBER))
    assert enforce('add_image', foreign, ctx(roles=ADMIN))


def test_modify_member_is_for_the_member():
    enforce = policies.get_enforcer().enforce
    membership = {'project_id': OWNER, 'owner': OWNER, 'member_id': OTHER,
                  'visibility': 'shared'}
    assert enforce('modify_member', membership, ctx(OTHER, MEMBER))
    assert not enforce('modify_member', membership, ctx(OWNER, MEMBER))
    assert not enforce('modify_member', membership, ctx(OTHER, READER))
    assert enforce('modify_member', membership, ctx(OWNER, ADMIN))


def test_tasks_api_is_admin_only():
    enforce = policies.get_enforcer().enforce
    assert enforce('tasks_api_access', {}, ctx(roles=ADMIN))
    assert not enforce('tasks_api_access', {}, ctx(roles=MEMBER))


# -- operator policy files ------------------------------------------------

def test_policy_file_overrides_a_default(policy_file):
    policy_file('"modify_image": "role:admin"\n'
                '"publicize_image": "role:member"\n')
    assert not allowed('modify_image', ctx(roles=MEMBER))
    assert allowed('publicize_image', ctx(roles=MEMBER))
    # Rules the file does not name keep their defaults.
    assert allowed('delete_image', ctx(roles=MEMBER))


def test_defaults_are_back_after_reset():
    # Runs after the override test in the same worker or not: either way
    # the defaults hold.
    assert allowed('modify_image', ctx(roles=MEMBER))
    assert not allowed('publicize_image', ctx(roles=MEMBER))


# -- the task repository proxy -------------------------------------------

class _Tasks:
    """A task repository holding one task of OWNER."""

    def __init__(self):
        self.task = types.SimpleNamespace(id='t-1', owner=OWNER)
        self.added = []

    def get(self, task_id):
        if task_id != self.task.id:
            raise exception.NotFound('no task %s' % task_id)
        return self.task

    def list(self, **filters):
        return [self.task]

    def add(self, task):
        self.added.append(task)
        return task

    def remove(self, task_id):
        raise exception.MethodNotAllowed('tasks are not deleted')


def task_proxy(caller):
    return api_policy.TaskRepoProxy(_Tasks(), caller)


@pytest.mark.parametrize('call', [
    lambda repo: repo.get('t-1'),
    lambda repo: repo.get('missing'),
    lambda repo: repo.list(),
    lambda repo: repo.add(object()),
    lambda repo: repo.remove('t-1'),
])
def test_the_tasks_api_needs_tasks_api_access(call):
    # 403 before anything else, an unknown task included: who may not use
    # the tasks API learns nothing about which tasks exist.
    with pytest.raises(exception.Forbidden):
        call(task_proxy(ctx(roles=MEMBER)))


def test_what_the_tasks_api_gives_an_admin():
    admin = task_proxy(ctx(project=OTHER, roles=ADMIN))
    assert admin.get('t-1').owner == OWNER
    assert len(admin.list()) == 1
    with pytest.raises(exception.NotFound):
        admin.get('missing')
    with pytest.raises(exception.MethodNotAllowed):
        admin.remove('t-1')
    new = object()
    assert admin.add(new) is new


def test_each_task_rule_is_checked_with_the_task_owner(policy_file):
    policy_file('"tasks_api_access": "role:member"\n'
                '"get_task": "project_id:%(project_id)s"\n')
    assert task_proxy(ctx(project=OWNER)).get('t-1').id == 't-1'
    with pytest.raises(exception.Forbidden):
        task_proxy(ctx(project=OTHER)).get('t-1')
