"""The one place where the layers around the repositories are stacked.

Order, outermost first: policy -> property protections -> notifications
-> domain rules -> database. A reader follows a request from the
controller into the SQL through the modules named here.
"""

from glance.api import policy
from glance.db import images as db_images
from glance.domain import image as domain_image


class Gateway:
    def __init__(self):
        self.image_factory = domain_image.ImageFactory()

    def get_image_repo(self, context):
        repo = db_images.ImageRepo(context)
        return policy.ImageRepoProxy(repo, context)


_GATEWAY = Gateway()


def get():
    return _GATEWAY
