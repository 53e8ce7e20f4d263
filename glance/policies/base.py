"""Rules the resource rules are built from.

The defaults are the secure-RBAC ones of the reference service: project
scope, the reader / member / admin roles (reader implied by member,
member by admin in Keystone), and service_api for calls made by other
services.
"""

from oslo_policy import policy

ADMIN = 'rule:context_is_admin'
PROJECT_MEMBER = 'role:member and project_id:%(project_id)s'
PROJECT_READER = 'role:reader and project_id:%(project_id)s'
SERVICE = 'rule:service_api'
ADMIN_OR_PROJECT_MEMBER = '%s or (%s)' % (ADMIN, PROJECT_MEMBER)
ADMIN_OR_PROJECT_READER = '%s or (%s)' % (ADMIN, PROJECT_READER)
# An image the caller's project owns, is a member of, or that is not
# private. (The data layer already hides shared images from projects that
# are not members, so 'shared' here means "shared with the caller".)
IMAGE_REACHABLE = ("(project_id:%(project_id)s or "
                   "project_id:%(member_id)s or "
                   "'community':%(visibility)s or "
                   "'public':%(visibility)s or "
                   "'shared':%(visibility)s)")

rules = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       description='Who is an administrator.'),
    policy.RuleDefault('default', '',
                       description='Rule for actions no other rule '
                                   'names.'),
    policy.RuleDefault('service_api', 'role:service or role:admin',
                       description='Calls made by other services (the '
                                   'admin role will be dropped from this '
                                   'default in a later release).'),
]


def list_rules():
    return rules


def rule(name, check, description, operations, deprecated=None):
    """A project-scoped documented rule; operations are (method, path).

    deprecated: (check, since) of the rule's legacy default, which
    oslo.policy ORs in when [oslo_policy] enforce_new_defaults is false.
    Only given where the reference's legacy default grants no more than
    the new one (see the policy notes in doc/source/admin/policies.rst).
    """
    deprecated_rule = None
    if deprecated is not None:
        legacy_check, since = deprecated
        deprecated_rule = policy.DeprecatedRule(
            name=name, check_str=legacy_check, deprecated_since=since,
            deprecated_reason='The secure-RBAC defaults replace it.')
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, scope_types=['project'],
        description=description, deprecated_rule=deprecated_rule,
        operations=[{'path': path, 'method': method}
                    for method, path in operations])
