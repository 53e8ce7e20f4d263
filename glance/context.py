"""The request context, shared by the no-Keystone and Keystone flavors."""

from oslo_context import context

from glance import policies


class RequestContext(context.RequestContext):
    """Who is calling: project, user, roles, and whether that is admin."""

    def __init__(self, owner_is_project=True, **kwargs):
        kwargs.setdefault('roles', [])
        kwargs['roles'] = [r.lower() for r in kwargs['roles'] if r]
        super().__init__(**kwargs)
        if not self.is_admin:
            self.is_admin = policies.get_enforcer().enforce(
                'context_is_admin', {}, self)

    @property
    def owner(self):
        """The project that owns what this caller creates."""
        return self.project_id

    def to_policy_values(self):
        values = super().to_policy_values()
        values['project_id'] = self.project_id
        return values


def admin_context():
    """A context for the service's own work (tasks, scrubbing)."""
    return RequestContext(is_admin=True, roles=['admin'])
