"""no_op: an import plugin that does nothing (a template and a test)."""

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

LOG = logging.getLogger(__name__)


class _Noop(task.Task):
    def __init__(self, task_id, image_id):
        super().__init__(name='NoOp-%s' % task_id)
        self.image_id = image_id

    def execute(self):
        LOG.info('no_op import plugin ran for image %s', self.image_id)


def get_flow(**kwargs):
    return linear_flow.Flow('no_op').add(
        _Noop(kwargs.get('task_id'), kwargs.get('image_id')))
