"""The one place where the layers around the repositories are stacked.

Order, outermost first: policy -> property protections -> domain rules
-> database. A reader follows a request from the controller into the SQL
through the modules named here.

The service's own context (glance.context.admin_context: import tasks,
upload recovery, the scrubber) is not subject to property protections:
import plugins must be able to write the properties they own.
"""

from glance.api import policy
from glance.api import property_protections
from glance.api import property_proxy
from glance.db import images as db_images
from glance.db import members as db_members
from glance.db import tasks as db_tasks
from glance.domain import image as domain_image
from glance.domain import quota


class Gateway:
    def __init__(self):
        self.image_factory = domain_image.ImageFactory()

    def get_image_repo(self, context):
        repo = db_images.ImageRepo(context)
        rules = property_protections.get_rules()
        if rules is not None and not getattr(context, 'is_service', False):
            repo = property_proxy.ImageRepoProxy(repo, context, rules)
        return policy.ImageRepoProxy(repo, context)

    def get_member_repo(self, context, image_id):
        """The members of an image the caller can see (404 otherwise)."""
        image = db_images.get(context, image_id)
        repo = db_members.MemberRepo(context, image,
                                     quota.check_member_count)
        return policy.MemberRepoProxy(repo, context)

    def get_task_repo(self, context):
        return policy.TaskRepoProxy(db_tasks.TaskRepo(context), context)


_GATEWAY = Gateway()


def get():
    return _GATEWAY
