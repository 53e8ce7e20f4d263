"""The image Member entity and the rules of sharing.

A member is a project an image is shared with. Only images whose
visibility is ``shared`` have members (another visibility keeps them
hidden until the image is shared again); a member accepts or rejects
the image (or puts it back to pending), and only accepted images appear
in its default image list. Whether the member may see the image does not
depend on the status.
"""

import dataclasses
import datetime

from glance.common import exception

STATUSES = ('pending', 'accepted', 'rejected')
MAX_MEMBER_ID_LENGTH = 255


@dataclasses.dataclass
class Member:
    image_id: str
    member_id: str
    status: str = 'pending'
    created_at: datetime.datetime = None
    updated_at: datetime.datetime = None


def check_member_id(member_id):
    if not isinstance(member_id, str) or not member_id.strip():
        raise exception.BadRequest('"member" must be a non-empty string '
                                   '(a project ID).')
    if len(member_id) > MAX_MEMBER_ID_LENGTH:
        raise exception.BadRequest('"member" is at most %d characters '
                                   'long.' % MAX_MEMBER_ID_LENGTH)


def check_status(status):
    if status not in STATUSES:
        raise exception.BadRequest('Invalid member status %r; use one of '
                                   '%s.' % (status, ', '.join(STATUSES)))


def check_can_have_members(image_id, visibility):
    """Only a shared image has members: any other answers 403.

    An image made private (or public, community) keeps its members, but
    they are out of use, and out of sight, until it is shared again.
    """
    if visibility != 'shared':
        raise exception.Forbidden(
            'Only shared images have members; image %s is %s.'
            % (image_id, visibility))
