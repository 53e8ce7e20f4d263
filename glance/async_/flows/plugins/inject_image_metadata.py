"""inject_image_metadata: properties the operator sets on every import.

[inject_metadata_properties] inject = key:value,... is written onto the
image, unless the importing user has one of ignore_user_roles (admin by
default). Protect the injected keys with property protections if users
must not change them afterwards.
"""

from oslo_config import cfg
from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class _InjectMetadata(task.Task):
    def __init__(self, task_id, image_id, image_repo, context, state):
        super().__init__(name='InjectImageMetadata-%s' % task_id)
        self.image_id = image_id
        self.image_repo = image_repo
        self.context = context
        self.state = state
        self.previous = {}

    def execute(self):
        opts = CONF.inject_metadata_properties
        roles = set(getattr(self.context, 'roles', None) or ())
        if not opts.inject or roles & set(opts.ignore_user_roles):
            return
        image = self.image_repo.get(self.image_id)
        for key, value in opts.inject.items():
            self.previous.setdefault(key,
                                     image.extra_properties.get(key))
            image.extra_properties[key] = value
            if self.state is not None:
                self.state.original_props.setdefault(key,
                                                     self.previous[key])
        self.image_repo.save(image)
        LOG.info('Injected %s into image %s', ', '.join(opts.inject),
                 self.image_id)


def get_flow(**kwargs):
    return linear_flow.Flow('inject_image_metadata').add(_InjectMetadata(
        kwargs.get('task_id'), kwargs.get('image_id'),
        kwargs.get('image_repo'), kwargs.get('context'),
        kwargs.get('import_state')))
