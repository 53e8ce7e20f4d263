"""The policy proxy: one oslo.policy rule checked per API operation.

The controllers name the rule of the operation they carry out when they
ask for the image; the check happens once, here, with the image as the
target. An image the caller may not see was already refused (404) by the
data layer, so a refusal here of anything but showing it is 403.
"""

from glance.common import exception
from glance import policies


def image_target(image):
    return {
        'project_id': image.owner,
        'owner': image.owner,
        'visibility': image.visibility,
        # A shared image the caller can load is shared with the caller's
        # project (the data layer checked membership).
        'member_id': None,
    }


class Enforcer:
    def __init__(self, context):
        self.context = context
        self.enforcer = policies.get_enforcer()

    def check(self, rule, target):
        return self.enforcer.enforce(rule, target, self.context)

    def enforce(self, rule, target, not_visible=False):
        if not self.check(rule, target):
            if not_visible:
                raise exception.NotFound()
            raise exception.Forbidden("Policy doesn't allow %s to be "
                                      "performed." % rule)


class ImageRepoProxy:
    """Wraps an image repository; overrides only what policy guards."""

    def __init__(self, repo, context):
        self.repo = repo
        self.context = context
        self.policy = Enforcer(context)

    def _member_target(self, image):
        target = image_target(image)
        if image.owner != self.context.project_id:
            target['member_id'] = self.context.project_id
        return target

    def get(self, image_id, rule='get_image'):
        image = self.repo.get(image_id)
        self.policy.enforce(rule, self._member_target(image),
                            not_visible=(rule == 'get_image'))
        return image

    def list(self, **kwargs):
        self.policy.enforce('get_images',
                            {'project_id': self.context.project_id,
                             'owner': self.context.project_id})
        return self.repo.list(**kwargs)

    def _check_visibility(self, image):
        if image.visibility == 'public':
            self.policy.enforce('publicize_image', image_target(image))
        elif image.visibility == 'community':
            self.policy.enforce('communitize_image', image_target(image))

    def add(self, image):
        self.policy.enforce('add_image', image_target(image))
        self._check_visibility(image)
        return self.repo.add(image)

    def save(self, image, visibility_changed=False):
        if visibility_changed:
            self._check_visibility(image)
        return self.repo.save(image)

    def remove(self, image):
        return self.repo.remove(image)

    def __getattr__(self, name):
        return getattr(self.repo, name)
