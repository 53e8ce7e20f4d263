"""The property protection proxy: extra properties by the operator's rules.

Wraps an image repository (under the policy proxy). Images it hands out
lack the properties the caller may not read, so no response shows them;
saving checks each added, changed and removed property against the
rules (glance.api.property_protections) and refuses with 403. A list
filtered on a property the caller may not read is empty.

A hidden property stays untouched in the database: it is left out of
the image as loaded, so a save neither rewrites nor removes it. Writing
a property of that name is an update of a property the caller cannot
read, and is refused.

The gateway does not stack this layer for the service's own context
(glance.context.admin_context), so import plugins and other internal
work read and write every property.
"""

from glance.common import exception


class ImageRepoProxy:
    def __init__(self, repo, context, rules):
        self.repo = repo
        self.context = context
        self.rules = rules
        # id -> names hidden from the caller when the image was loaded
        self._hidden = {}
        # id -> names the caller saw (the baseline of create vs update)
        self._shown = {}

    def _hide(self, image):
        hidden = [name for name in image.extra_properties
                  if not self.rules.can_read(self.context, name)]
        if hidden:
            for name in hidden:
                del image.extra_properties[name]
            # What the caller sees is the baseline of its changes.
            image.mark_clean()
        self._hidden[image.id] = set(hidden) | self._hidden.get(image.id,
                                                                set())
        self._shown[image.id] = set(image.extra_properties)
        return image

    def _refuse(self, operation, name):
        raise exception.Forbidden("Property '%s' is protected: you may not "
                                  "%s it." % (name, operation))

    def _check_changes(self, image):
        changed, removed = image.property_changes()
        hidden = self._hidden.get(image.id, set())
        loaded = self._shown.get(image.id, set())
        for name in changed:
            if name in hidden:
                operation = 'update'
            else:
                operation = 'update' if name in loaded else 'create'
            if not self.rules.check(self.context, name, operation):
                self._refuse(operation, name)
        for name in removed:
            if not self.rules.check(self.context, name, 'delete'):
                self._refuse('delete', name)

    def get(self, image_id):
        return self._hide(self.repo.get(image_id))

    def list(self, **kwargs):
        # A filter on a property the caller may not read would tell,
        # image by image, whether a guess of its value is right: such a
        # filter matches nothing, whatever its form (plain, in:, an
        # operator: for extra properties all are compared as text).
        for name in kwargs.get('properties') or {}:
            if not self.rules.can_read(self.context, name):
                return []
        return [self._hide(image) for image in self.repo.list(**kwargs)]

    def add(self, image):
        for name in image.extra_properties:
            if not self.rules.check(self.context, name, 'create'):
                self._refuse('create', name)
        self.repo.add(image)
        return self._hide(image)

    def save(self, image):
        self._check_changes(image)
        self.repo.save(image)
        return self._hide(image)

    def __getattr__(self, name):
        return getattr(self.repo, name)
