"""Parsing and applying property protection files (both formats)."""

import os
import textwrap

import pytest

from glance.api import property_protections as pp
from glance.api import property_proxy
from glance.common import exception
from glance import context
from glance.domain import image as domain

ETC = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'etc')


def ctx(*roles, project='p1'):
    return context.RequestContext(project_id=project, user_id='u',
                                  roles=list(roles))


def write(tmp_path, text, name='protections.conf'):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


ROLES_FILE = """
    [^x_admin_.*]
    create = admin
    read = admin,member
    update = admin
    delete = admin

    [^x_case_.*]
    create = Admin
    read = @
    update = ADMIN
    delete = !

    [^x_secret$]
    create = admin
    read = !
    update = admin
    delete = admin

    [^x_.*]
    create = member
    read = @
    update = member
    delete = member
    """


# -- roles format ---------------------------------------------------------

def test_roles_first_match_wins(tmp_path):
    rules = pp.parse(write(tmp_path, ROLES_FILE))
    member, admin = ctx('member', 'reader'), ctx('admin')
    # x_admin_foo matches the first section even though ^x_.* matches too.
    assert not rules.check(member, 'x_admin_foo', 'create')
    assert rules.check(admin, 'x_admin_foo', 'create')
    assert rules.check(member, 'x_admin_foo', 'read')
    assert rules.check(member, 'x_other', 'create')
    assert not rules.check(admin, 'x_other', 'create')


def test_roles_file_order_decides(tmp_path):
    path = write(tmp_path, """
        [.*]
        create = @
        read = @
        update = @
        delete = @

        [^x_admin_.*]
        create = admin
        read = admin
        update = admin
        delete = admin
        """)
    rules = pp.parse(path)
    # The catch-all comes first, so the second section never applies.
    assert rules.check(ctx('reader'), 'x_admin_foo', 'create')


def test_roles_at_and_bang(tmp_path):
    rules = pp.parse(write(tmp_path, ROLES_FILE))
    nobody = ctx()
    assert rules.check(nobody, 'x_case_a', 'read')
    assert not rules.check(ctx('admin'), 'x_case_a', 'delete')


def test_roles_are_case_insensitive(tmp_path):
    rules = pp.parse(write(tmp_path, ROLES_FILE))
    assert rules.check(ctx('ADMIN'), 'x_case_a', 'create')
    assert rules.check(ctx('admin'), 'x_case_a', 'update')


def test_no_match_is_denied(tmp_path):
    rules = pp.parse(write(tmp_path, ROLES_FILE))
    for operation in pp.OPERATIONS:
        assert not rules.check(ctx('admin'), 'unmatched', operation)


def test_read_denial_denies_update_and_delete(tmp_path):
    rules = pp.parse(write(tmp_path, ROLES_FILE))
    admin = ctx('admin')
    assert rules.check(admin, 'x_secret', 'create')
    assert not rules.check(admin, 'x_secret', 'read')
    assert not rules.check(admin, 'x_secret', 'update')
    assert not rules.check(admin, 'x_secret', 'delete')


def test_reserved_properties_are_not_governed(tmp_path):
    rules = pp.parse(write(tmp_path, ROLES_FILE))
    for operation in pp.OPERATIONS:
        assert rules.check(ctx(), 'os_glance_import_task', operation)


def test_missing_operation_is_denied(tmp_path):
    rules = pp.parse(write(tmp_path, """
        [.*]
        create = @
        read = @
        """))
    assert rules.check(ctx(), 'a', 'create')
    assert not rules.check(ctx('admin'), 'a', 'update')
    assert not rules.check(ctx('admin'), 'a', 'delete')


# -- policies format -------------------------------------------------------

def test_policies_format(tmp_path, policy_file):
    policy_file('"glance_creator": "role:admin or role:member"\n'
                '"glance_reader": "role:reader"\n')
    rules = pp.parse(write(tmp_path, """
        [^x_billing_.*]
        create = context_is_admin
        read = context_is_admin
        update = context_is_admin
        delete = !

        [^x_owner_.*]
        create = glance_creator
        read = glance_reader
        update = glance_creator
        delete = glance_creator

        [.*]
        create = @
        read = default
        update = @
        delete = @
        """), 'policies')
    member = ctx('member', 'reader')
    assert rules.check(member, 'x_owner_a', 'create')
    assert rules.check(member, 'x_owner_a', 'read')
    assert not rules.check(ctx('member'), 'x_owner_a', 'read')
    assert not rules.check(member, 'x_billing_a', 'create')
    assert rules.check(ctx('admin'), 'x_billing_a', 'update')
    assert not rules.check(ctx('admin'), 'x_billing_a', 'delete')
    assert rules.check(ctx(), 'anything', 'read')


def test_policies_format_unknown_rule_stops(tmp_path):
    path = write(tmp_path, """
        [.*]
        create = no_such_rule
        read = @
        update = @
        delete = @
        """)
    with pytest.raises(pp.PropertyProtectionError,
                       match='no_such_rule.*not defined'):
        pp.parse(path, 'policies')


def test_policies_format_takes_one_rule(tmp_path):
    path = write(tmp_path, """
        [.*]
        create = default,context_is_admin
        read = @
        update = @
        delete = @
        """)
    with pytest.raises(pp.PropertyProtectionError, match='exactly one'):
        pp.parse(path, 'policies')


# -- files that stop the service ------------------------------------------

@pytest.mark.parametrize('text,message', [
    ('create = admin\n', 'malformed'),
    ('[.*]\ncreate admin\n', 'malformed'),
    ('[.*]\ncreate = @\n[.*]\nread = @\n', 'malformed'),
    ('[x(]\ncreate = @\nread = @\nupdate = @\ndelete = @\n',
     'not a valid regular expression'),
    ('[.*]\ncreate = @\nread = @\nupdate = @\nremove = @\n',
     'unknown operation'),
    ('[.*]\ncreate =\nread = @\nupdate = @\ndelete = @\n', 'empty'),
    ('[.*]\ncreate = @,admin\nread = @\nupdate = @\ndelete = @\n',
     'mixes'),
    ('# only comments\n', 'no sections'),
])
def test_malformed_files(tmp_path, text, message):
    path = tmp_path / 'bad.conf'
    path.write_text(text)
    with pytest.raises(pp.PropertyProtectionError, match=message) as e:
        pp.parse(str(path))
    assert str(path) in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(pp.PropertyProtectionError, match='does not exist'):
        pp.parse(str(tmp_path / 'nope.conf'))


def test_load_from_configuration(tmp_path, conf):
    conf.config(property_protection_file=write(tmp_path, ROLES_FILE))
    try:
        rules = pp.load()
        assert pp.get_rules() is rules
        assert len(rules.sections) == 4
        conf.config(property_protection_file=None)
        assert pp.load() is None
        assert pp.get_rules() is None
    finally:
        pp.reset()


@pytest.mark.parametrize('name,rule_format', [
    ('property-protections-roles.conf.sample', 'roles'),
    ('property-protections-policies.conf.sample', 'policies')])
def test_samples_parse(name, rule_format, policy_file):
    if rule_format == 'policies':
        policy_file('"glance_creator": "role:member"\n'
                    '"glance_reader": "role:reader"\n')
    rules = pp.parse(os.path.join(ETC, name), rule_format)
    assert rules.sections


# -- the proxy ------------------------------------------------------------

class FakeRepo:
    def __init__(self):
        self.images = {}
        self.saved = []

    def get(self, image_id):
        stored = self.images[image_id]
        return domain.Image(**stored)

    def list(self, **kwargs):
        return [self.get(i) for i in self.images]

    def add(self, image):
        self.images[image.id] = {'id': image.id, 'extra_properties':
                                 dict(image.extra_properties)}
        image.mark_clean()

    def save(self, image):
        changed, removed = image.property_changes()
        stored = self.images[image.id]['extra_properties']
        stored.update(changed)
        for name in removed:
            del stored[name]
        self.saved.append((changed, removed))
        image.mark_clean()


@pytest.fixture
def proxy_for(tmp_path):
    rules = pp.parse(write(tmp_path, ROLES_FILE))
    repo = FakeRepo()
    repo.images['i'] = {'id': 'i', 'extra_properties': {
        'x_admin_a': '1', 'x_secret': 's', 'x_b': '2',
        'unmatched': 'u', 'os_glance_import_task': 't'}}

    def make(*roles):
        return property_proxy.ImageRepoProxy(repo, ctx(*roles), rules)
    make.repo = repo
    return make


def test_proxy_hides_unreadable(proxy_for):
    image = proxy_for('member').get('i')
    assert image.extra_properties == {'x_admin_a': '1', 'x_b': '2',
                                      'os_glance_import_task': 't'}
    image = proxy_for('reader').get('i')
    assert 'x_admin_a' not in image.extra_properties
    [listed] = proxy_for('reader').list()
    assert 'x_admin_a' not in listed.extra_properties


def test_proxy_save_leaves_hidden_properties_alone(proxy_for):
    repo = proxy_for('member')
    image = repo.get('i')
    image.extra_properties['x_b'] = '3'
    repo.save(image)
    stored = proxy_for.repo.images['i']['extra_properties']
    assert stored['x_secret'] == 's' and stored['unmatched'] == 'u'
    assert stored['x_b'] == '3'


def test_proxy_refuses_protected_changes(proxy_for):
    repo = proxy_for('member')
    image = repo.get('i')
    image.extra_properties['x_admin_a'] = 'changed'
    with pytest.raises(exception.Forbidden, match='x_admin_a'):
        repo.save(image)
    image = repo.get('i')
    del image.extra_properties['x_b']
    repo.save(image)
    image = repo.get('i')
    image.extra_properties['x_new'] = 'v'
    repo.save(image)
    image = proxy_for('reader').get('i')
    image.extra_properties['x_new2'] = 'v'
    with pytest.raises(exception.Forbidden, match='create'):
        proxy_for('reader').save(image)


def test_proxy_writing_a_hidden_property_is_an_update(proxy_for):
    repo = proxy_for('admin')
    image = repo.get('i')
    assert 'x_secret' not in image.extra_properties
    image.extra_properties['x_secret'] = 'overwrite'
    with pytest.raises(exception.Forbidden, match='update'):
        repo.save(image)


def test_proxy_service_may_write_reserved(proxy_for):
    repo = proxy_for('reader')
    image = repo.get('i')
    image.extra_properties['os_glance_failed_import'] = 'fast'
    del image.extra_properties['os_glance_import_task']
    repo.save(image)


def test_proxy_add_checks_create(proxy_for):
    repo = proxy_for('member')
    image = domain.Image(id='n', extra_properties={'x_admin_z': '1'})
    with pytest.raises(exception.Forbidden):
        repo.add(image)
    image = domain.Image(id='n', extra_properties={'x_z': '1',
                                                   'x_case_q': 'no'})
    with pytest.raises(exception.Forbidden):
        repo.add(image)
    image = domain.Image(id='n', extra_properties={'x_z': '1'})
    repo.add(image)
    assert image.extra_properties == {'x_z': '1'}
