"""The policy proxy: one oslo.policy rule checked per API operation.

The controllers name the rule of the operation they carry out when they
ask for the image (or the membership); the check happens once, here,
with the image as the target:

    {'project_id': owner, 'owner': owner, 'visibility': ..., 'image_id':
     ..., 'member_id': <a member project, see below>}

``member_id`` is the caller's project when that project is a member of
the image (image rules, get_members), or the member named in the URL
(get_member, modify_member, delete_member, add_member).

What the caller may not see answers 404, never 403: an image (or a
membership) outside the caller's reach was already refused by the data
layer, and a refusal of a rule that reads (get_image, get_member,
get_members, get_image_tasks) is 404 too. Any other refusal is 403 if
the caller passes get_image for the image, 404 if not (as the reference
answers: a system-scoped token, which get_image refuses, finds no
project's image). get_image is asked only to choose between the two.
The members API asks get_image first, as the reference does.

Creating or editing an image with visibility public or community also
needs publicize_image or communitize_image; these are the only second
checks, and they guard the visibility value, not the operation.
"""

from oslo_log import log as logging
from oslo_policy import policy as oslo_policy

from glance.common import exception
from glance import policies

LOG = logging.getLogger(__name__)

# Rules that read: refusing one means "you cannot see this".
HIDING_RULES = frozenset(('get_image', 'get_member', 'get_members',
                          'get_image_tasks'))

VISIBILITY_RULES = {'public': 'publicize_image',
                    'community': 'communitize_image'}


def image_target(image, member_id=None):
    return {
        'project_id': image.owner,
        'owner': image.owner,
        'visibility': image.visibility,
        'image_id': image.id,
        'member_id': member_id,
    }


class Enforcer:
    """The caller's context bound to the service's oslo.policy enforcer."""

    def __init__(self, context):
        self.context = context
        self.enforcer = policies.get_enforcer()

    def check(self, rule, target):
        try:
            return self.enforcer.enforce(rule, target, self.context)
        except oslo_policy.InvalidScope:
            return False

    def enforce(self, rule, target):
        if self.check(rule, target):
            return
        LOG.debug('Policy %s refused for project %s, roles %s', rule,
                  self.context.project_id, self.context.roles)
        if rule in ('get_member', 'get_members'):
            raise exception.NotFound('No members found for image %s.'
                                     % target.get('image_id'))
        if rule in HIDING_RULES:
            raise exception.ImageNotFound(target.get('image_id'))
        raise exception.Forbidden("Policy doesn't allow %s to be "
                                  "performed." % rule)

    def enforce_on_image(self, rule, target):
        """enforce(), but a refusal is 404 to whom get_image refuses."""
        if self.check(rule, target):
            return
        if rule not in HIDING_RULES and not self.check('get_image', target):
            LOG.debug('Policy %s refused, and get_image too: image %s is '
                      'hidden', rule, target.get('image_id'))
            raise exception.ImageNotFound(target.get('image_id'))
        self.enforce(rule, target)


class ImageRepoProxy:
    """Wraps an image repository; overrides only what policy guards."""

    def __init__(self, repo, context):
        self.repo = repo
        self.context = context
        self.policy = Enforcer(context)

    def _caller_membership(self, image):
        """The caller's project if it is a member of the image."""
        project = self.context.project_id
        if project is None or image.owner == project:
            return None
        if self.repo.member_status(image.id) is None:
            return None
        return project

    def target(self, image):
        return image_target(image, self._caller_membership(image))

    def get(self, image_id, rule='get_image'):
        """The image, if the caller may carry out the operation of rule."""
        image = self.repo.get(image_id)
        self.policy.enforce_on_image(rule, self.target(image))
        return image

    def list(self, **kwargs):
        project = self.context.project_id
        self.policy.enforce('get_images', {'project_id': project,
                                           'owner': project})
        images = self.repo.list(**kwargs)
        # Each listed image must also pass get_image. The data layer lists
        # a shared image that the caller does not own only to its members,
        # so the target needs no look-up; decisions are cached per target.
        decisions = {}
        shown = []
        for image in images:
            member = None
            if image.visibility == 'shared' and image.owner != project \
                    and not self.context.is_admin:
                member = project
            key = (image.owner, image.visibility, member)
            if key not in decisions:
                decisions[key] = self.policy.check(
                    'get_image', image_target(image, member))
            if decisions[key]:
                shown.append(image)
        return shown

    def _check_visibility(self, image):
        rule = VISIBILITY_RULES.get(image.visibility)
        if rule:
            self.policy.enforce(rule, image_target(image))

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


class MemberRepoProxy:
    """Wraps the member repository of one image."""

    def __init__(self, repo, context):
        self.repo = repo
        self.image = repo.image
        self.context = context
        self.policy = Enforcer(context)

    def _target(self, member_id):
        # The image must be visible first (get_image, 404 if not), then
        # the operation's own rule applies.
        caller = self.context.project_id
        member = caller if self.repo.has_member(caller) else None
        self.policy.enforce('get_image', image_target(self.image, member))
        return image_target(self.image, member_id)

    def list(self):
        members = self.repo.list()
        project = self.context.project_id
        is_member = any(m.member_id == project for m in members)
        self.policy.enforce('get_members',
                            self._target(project if is_member else None))
        return members

    def get(self, member_id):
        member = self.repo.get(member_id)
        self.policy.enforce('get_member', self._target(member_id))
        return member

    def add(self, member_id):
        self.repo.require_shared()
        self.policy.enforce('add_member', self._target(member_id))
        return self.repo.add(member_id)

    def update_status(self, member_id, status):
        self.repo.require_shared()
        member = self.repo.get(member_id)
        self.policy.enforce('modify_member', self._target(member_id))
        return self.repo.update_status(member, status)

    def remove(self, member_id):
        self.repo.require_shared()
        member = self.repo.get(member_id)
        self.policy.enforce('delete_member', self._target(member_id))
        self.repo.remove(member)


class TaskRepoProxy:
    """Wraps the task repository. Every call of the tasks API passes
    tasks_api_access and then its own rule, with the task's owner (or,
    before there is a task, the caller's project) as the target."""

    def __init__(self, repo, context):
        self.repo = repo
        self.context = context
        self.policy = Enforcer(context)

    def _enforce(self, rule, owner=None):
        self.check_access(owner)
        owner = owner or self.context.project_id
        self.policy.enforce(rule, {'project_id': owner, 'owner': owner})

    def check_access(self, owner=None):
        """tasks_api_access alone: POST /v2/tasks checks it before it
        reads the body, so a caller refused learns nothing of it (403)."""
        owner = owner or self.context.project_id
        self.policy.enforce('tasks_api_access',
                            {'project_id': owner, 'owner': owner})

    def get(self, task_id):
        try:
            task = self.repo.get(task_id)
        except exception.NotFound:
            # Who may not use the tasks API learns nothing from a 404.
            self._enforce('get_task')
            raise
        self._enforce('get_task', task.owner)
        return task

    def list(self, **filters):
        self._enforce('get_tasks')
        return self.repo.list(**filters)

    def add(self, task):
        self._enforce('add_task')
        return self.repo.add(task)

    def remove(self, task_id):
        self._enforce('modify_task')
        return self.repo.remove(task_id)

    def list_for_image(self, image_id):
        # Guarded by the image's own rule, get_image_tasks, when the image
        # was loaded.
        return self.repo.list_for_image(image_id)

    def begin_import(self, task, *args, **kwargs):
        # Guarded by the image's own rule, import_image or copy_image,
        # when the image was loaded.
        return self.repo.begin_import(task, *args, **kwargs)


def namespace_target(namespace):
    return {'project_id': namespace['owner'],
            'visibility': namespace['visibility']}


class MetadefRepoProxy:
    """Wraps the metadef repository: each operation -> its one rule.

    An operation inside a namespace first finds the namespace (the data
    layer hides those the caller may not see: 404), then checks its rule
    with the namespace as the target. A refusal is 404 when the caller
    could not read the namespace either, and 403 otherwise, as the
    reference answers.
    """

    # Operations on a namespace the caller names: repository method ->
    # rule. The children's operations take the kind of child as their
    # first argument, so their rule depends on it (see _child_rule).
    NAMESPACE_RULES = {
        'show_namespace': 'get_metadef_namespace',
        'update_namespace': 'modify_metadef_namespace',
        'delete_namespace': 'delete_metadef_namespace',
        'add_tags': 'add_metadef_tags',
        'get_prefixed_property': 'get_metadef_property',
        'list_associations': 'get_metadef_resource_type',
        'add_association': 'add_metadef_resource_type_association',
        'remove_association': 'remove_metadef_resource_type_association',
    }
    CHILD_RULES = {
        # method: {kind: rule}
        'list_children': {'objects': 'get_metadef_objects',
                          'properties': 'get_metadef_properties',
                          'tags': 'get_metadef_tags'},
        'get_child': {'objects': 'get_metadef_object',
                      'properties': 'get_metadef_property',
                      'tags': 'get_metadef_tag'},
        'add_child': {'objects': 'add_metadef_object',
                      'properties': 'add_metadef_property',
                      'tags': 'add_metadef_tag'},
        'update_child': {'objects': 'modify_metadef_object',
                         'properties': 'modify_metadef_property',
                         'tags': 'modify_metadef_tag'},
        'delete_child': {'objects': 'delete_metadef_object',
                         'properties': 'remove_metadef_property',
                         'tags': 'delete_metadef_tag'},
        # Emptying a namespace of its objects or properties is, in the
        # reference, deleting part of the namespace.
        'delete_children': {'objects': 'delete_metadef_namespace',
                            'properties': 'delete_metadef_namespace',
                            'tags': 'delete_metadef_tags'},
    }

    def __init__(self, repo, context):
        self.repo = repo
        self.context = context
        self.policy = Enforcer(context)

    def _caller_target(self):
        return {'project_id': self.context.project_id}

    def _enforce_on(self, rule, namespace):
        target = namespace_target(namespace)
        if self.policy.check(rule, target):
            return
        LOG.debug('Policy %s refused for project %s, roles %s', rule,
                  self.context.project_id, self.context.roles)
        if (rule == 'get_metadef_namespace' or
                not self.policy.check('get_metadef_namespace', target)):
            raise exception.NotFound('Metadata definition namespace=%s '
                                     'was not found.'
                                     % namespace['namespace'])
        raise exception.Forbidden("Policy doesn't allow %s to be "
                                  "performed." % rule)

    def _in_namespace(self, method, rule, name, *args, **kwargs):
        namespace = self.repo.get_namespace(name)
        self._enforce_on(rule, namespace)
        return getattr(self.repo, method)(namespace, *args, **kwargs)

    def __getattr__(self, method):
        if method in self.NAMESPACE_RULES:
            rule = self.NAMESPACE_RULES[method]
            return lambda name, *args, **kwargs: self._in_namespace(
                method, rule, name, *args, **kwargs)
        if method in self.CHILD_RULES:
            rules = self.CHILD_RULES[method]
            return lambda name, kind, *args, **kwargs: self._in_namespace(
                method, rules[kind], name, kind, *args, **kwargs)
        raise AttributeError(method)

    def list_namespaces(self, **kwargs):
        self.policy.enforce('get_metadef_namespaces', self._caller_target())
        decisions = {}
        shown = []
        for namespace in self.repo.list_namespaces(**kwargs):
            key = (namespace['owner'], namespace['visibility'])
            if key not in decisions:
                decisions[key] = self.policy.check(
                    'get_metadef_namespace', namespace_target(namespace))
            if decisions[key]:
                shown.append(namespace)
        return shown

    def add_namespace(self, values, **contents):
        self.policy.enforce('add_metadef_namespace', self._caller_target())
        return self.repo.add_namespace(values, **contents)

    def list_resource_types(self):
        self.policy.enforce('list_metadef_resource_types',
                            self._caller_target())
        return self.repo.list_resource_types()
