"""The request context, shared by the no-Keystone and Keystone flavors.

With Keystone, keystonemiddleware's auth_token validates the token and
sets the identity headers; oslo.context reads them (project, user,
domains, roles, system scope, service token, service roles, request id),
and the context middleware builds this context from them.
"""

from oslo_context import context

from glance import policies


class RequestContext(context.RequestContext):
    """Who is calling: project, user, roles, and whether that is admin.

    ``is_service`` marks the service's own context (admin_context): it is
    exempt from property protections.
    """

    def __init__(self, owner_is_project=True, is_service=False, **kwargs):
        kwargs.setdefault('roles', [])
        kwargs['roles'] = [r.lower() for r in kwargs['roles'] if r]
        if kwargs.get('service_roles'):
            kwargs['service_roles'] = [r.lower()
                                       for r in kwargs['service_roles'] if r]
        super().__init__(**kwargs)
        self.is_service = is_service
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
    """A context for the service's own work (tasks, scrubbing, plugins)."""
    return RequestContext(is_admin=True, roles=['admin'], is_service=True)
