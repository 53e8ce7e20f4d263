"""The Task entity: one asynchronous job (an import) and its life.

    pending -> processing -> success
                          -> failure
    pending -> failure          (never started: lock broken, node gone)

A finished task expires task_time_to_live hours after it finished; the
API stops showing it then.
"""

import datetime
import uuid

from oslo_config import cfg

from glance.common import exception
from glance.domain import image as domain_image

CONF = cfg.CONF

STATUSES = ('pending', 'processing', 'success', 'failure')
TRANSITIONS = {
    'pending': {'processing', 'failure'},
    'processing': {'success', 'failure'},
    'success': set(),
    'failure': set(),
}
LIVE = ('pending', 'processing')

# Types the legacy /v2/tasks API accepts (and filters by).
LEGACY_TYPES = ('import',)
TYPES = ('import', 'api_image_import', 'location_import')

ATTRIBUTES = ('id', 'type', 'status', 'owner', 'user_id', 'request_id',
              'image_id', 'input', 'result', 'message', 'expires_at',
              'created_at', 'updated_at', 'deleted_at', 'deleted')


class InvalidTaskStatusTransition(exception.Conflict):
    def __init__(self, cur, new):
        super().__init__('Task status transition from %s to %s is not '
                         'allowed' % (cur, new))


class Task:
    __slots__ = ATTRIBUTES

    def __init__(self, **values):
        for name in ATTRIBUTES:
            setattr(self, name, values.get(name))
        self.deleted = bool(self.deleted)
        self.message = self.message or ''

    @property
    def is_live(self):
        return self.status in LIVE

    def check_transition(self, new_status):
        if new_status not in TRANSITIONS.get(self.status, ()):
            raise InvalidTaskStatusTransition(self.status, new_status)


def time_to_live():
    return datetime.timedelta(hours=CONF.task.task_time_to_live)


def new_task(task_type, owner, user_id=None, request_id=None, image_id=None,
             task_input=None, task_id=None):
    now = domain_image.utcnow()
    return Task(id=task_id or str(uuid.uuid4()), type=task_type,
                status='pending', owner=owner, user_id=user_id,
                request_id=request_id, image_id=image_id,
                input=task_input or {}, result=None, message='',
                expires_at=None, created_at=now, updated_at=now,
                deleted=False)
