"""Rules for image members (sharing).

The target is the image (project_id = its owner) with member_id: for
listing, the caller's project if it is a member of the image; for one
membership, the member of the URL.
"""

from glance.policies import base

_rule = base.rule
_MEMBERS = '/v2/images/{image_id}/members'
_OWN_OR_MEMBER = ('role:reader and (project_id:%(project_id)s or '
                  'project_id:%(member_id)s)')

rules = [
    _rule('add_member', base.ADMIN_OR_PROJECT_MEMBER,
          'Share an image with a project.', [('POST', _MEMBERS)]),
    _rule('delete_member', base.ADMIN_OR_PROJECT_MEMBER,
          'Stop sharing an image with a project.',
          [('DELETE', _MEMBERS + '/{member_id}')]),
    _rule('get_member', '%s or (%s)' % (base.ADMIN, _OWN_OR_MEMBER),
          'Show an image member.', [('GET', _MEMBERS + '/{member_id}')]),
    _rule('get_members', '%s or (%s)' % (base.ADMIN, _OWN_OR_MEMBER),
          'List image members.', [('GET', _MEMBERS)]),
    _rule('modify_member',
          '%s or (role:member and project_id:%%(member_id)s)' % base.ADMIN,
          'Accept or reject an image shared with the project.',
          [('PUT', _MEMBERS + '/{member_id}')]),
]


def list_rules():
    return rules
