"""A policy file written for the reference works here unchanged.

glance/common/data/reference_policies.json lists the reference's rules
and the names of their deprecated rules (tools/reference_options.py
writes it). Every one must be a rule here, and a policy.json in the
reference's style (JSON, custom rules, %(owner)s targets) is read.
"""

import json
import os

from oslo_config import cfg
import pytest

from glance import context
from glance import policies

DATA = os.path.join(os.path.dirname(policies.__file__), '..', 'common',
                    'data', 'reference_policies.json')
with open(DATA) as _f:
    REFERENCE = json.load(_f)

OURS = {rule.name: rule for rule in policies.list_rules()}


def test_reference_list_is_not_empty():
    assert len(REFERENCE) > 60


@pytest.mark.parametrize('row', REFERENCE, ids=[r['name'] for r in REFERENCE])
def test_reference_rule_exists(row):
    assert row['name'] in OURS


@pytest.mark.parametrize('row', [r for r in REFERENCE if r['deprecated']],
                         ids=lambda r: r['name'])
def test_reference_deprecated_name_is_read(row):
    # A file that sets the deprecated name sets a rule of ours: the
    # reference's deprecated names are the rules' own names.
    assert row['deprecated'] in OURS or any(
        getattr(rule.deprecated_rule, 'name', None) == row['deprecated']
        for rule in OURS.values() if rule.deprecated_rule)


@pytest.mark.parametrize('row', REFERENCE, ids=[r['name'] for r in REFERENCE])
def test_reference_scope_types(row):
    assert getattr(OURS[row['name']], 'scope_types', None) == \
        row['scope_types']


def ctx(project, roles):
    return context.RequestContext(project_id=project, user_id='u',
                                  roles=list(roles))


def target(owner):
    return {'project_id': owner, 'owner': owner, 'visibility': 'public',
            'member_id': None, 'image_id': 'i'}


@pytest.fixture
def policy_json(conf, tmp_path):
    policies.get_enforcer()  # registers the [oslo_policy] options

    def use(rules):
        path = tmp_path / 'policy.json'
        path.write_text(json.dumps(rules))
        conf.config(policy_file=str(path), group='oslo_policy')
        policies.reset()
    return use


def test_reference_style_policy_json(policy_json):
    policy_json({
        'context_is_admin': 'role:admin',
        'admin_or_owner': 'is_admin:True or project_id:%(owner)s',
        'modify_image': 'rule:admin_or_owner',
        'add_image': 'role:admin',
    })
    enforcer = policies.get_enforcer()
    member = ctx('p1', ['member', 'reader'])
    other = ctx('p2', ['member', 'reader'])
    assert enforcer.enforce('modify_image', target('p1'), member)
    assert not enforcer.enforce('modify_image', target('p1'), other)
    assert not enforcer.enforce('add_image', target('p1'), member)
    assert enforcer.enforce('add_image', target('p1'),
                            ctx('p1', ['admin']))
    # Rules the file leaves alone keep their defaults.
    assert enforcer.enforce('get_image', target('p1'), other)


def test_legacy_defaults_only_where_they_grant_no_more(conf, policy_json):
    conf.config(enforce_new_defaults=False, group='oslo_policy')
    policy_json({'unrelated': '@'})
    enforcer = policies.get_enforcer()
    other = ctx('p2', ['member', 'reader'])
    # The image rules keep their new defaults (no rule:default fallback,
    # which would let anyone change anyone's image).
    assert not enforcer.enforce('modify_image', target('p1'), other)
    # stores_info_detail's legacy default (admin) is within the new one.
    assert not enforcer.enforce('stores_info_detail', target('p1'), other)
    assert enforcer.enforce('stores_info_detail', target('p1'),
                            ctx('p2', ['admin']))


def test_enforce_new_defaults_option_is_oslo_policys(conf):
    policies.get_enforcer()
    assert cfg.CONF.oslo_policy.enforce_new_defaults is True
