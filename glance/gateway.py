"""The one place where the layers around the repositories are stacked.

Order, outermost first: policy -> notifications -> property
protections -> domain rules -> database. A reader follows a request from
the controller into the SQL through the modules named here.

The notification layer sits above property protections, so the images it
announces have already lost the properties the caller may not read. A
repository of the service's own context announces its changes with the
properties that ``reader`` (the user the work is done for) may read, or,
without one, only those every caller may read.

The service's own context (glance.context.admin_context: import tasks,
upload recovery, the scrubber) is not subject to property protections:
import plugins must be able to write the properties they own.
"""

import functools

from glance.api import policy
from glance.api import property_protections
from glance.api import property_proxy
from glance import context as glance_context
from glance.db import images as db_images
from glance.db import members as db_members
from glance.db import metadefs as db_metadefs
from glance.db import tasks as db_tasks
from glance.domain import image as domain_image
from glance.domain import quota
from glance.notifier import proxy as notifier


class Gateway:
    def __init__(self):
        self.image_factory = domain_image.ImageFactory()

    def get_image_repo(self, context, reader=None):
        repo = db_images.ImageRepo(context)
        rules = property_protections.get_rules()
        service = getattr(context, 'is_service', False)
        if rules is not None and not service:
            repo = property_proxy.ImageRepoProxy(repo, context, rules)
        repo = notifier.ImageRepoProxy(
            repo, context, _readable(rules, context, reader, service))
        return policy.ImageRepoProxy(repo, context)

    def get_member_repo(self, context, image_id):
        """The members of an image the caller can see (404 otherwise)."""
        image = db_images.get(context, image_id)
        repo = notifier.MemberRepoProxy(db_members.MemberRepo(
            context, image, quota.check_member_count))
        return policy.MemberRepoProxy(repo, context)

    def get_task_repo(self, context):
        repo = notifier.TaskRepoProxy(db_tasks.TaskRepo(context))
        return policy.TaskRepoProxy(repo, context)

    def get_task_runner(self):
        """What the executor moves tasks on with (the service's own)."""
        return notifier.TaskRunner(db_tasks)

    def get_metadef_repo(self, context):
        return policy.MetadefRepoProxy(db_metadefs.MetadefRepo(context),
                                       context)


def _readable(rules, context, reader, service):
    """Which properties an event about the image may carry."""
    if rules is None:
        return lambda name: True
    if reader is None:
        reader = (glance_context.RequestContext(roles=[]) if service
                  else context)
    return functools.partial(rules.can_read, reader)


_GATEWAY = Gateway()


def get():
    return _GATEWAY
