"""Handlers of /v2/schemas/* and /v2/info/*."""

from oslo_config import cfg

from glance.api.v2 import schemas
from glance.common import exception
from glance.common import wsgi
from glance.domain import quota

CONF = cfg.CONF


def show_schema(request, name):
    wsgi.refuse_body(request)
    build = schemas.SCHEMAS.get(name)
    if build is None:
        raise exception.NotFound('No schema named %s.' % name)
    return wsgi.json_response(build())


def import_info(request):
    wsgi.refuse_body(request)
    return wsgi.json_response({'import-methods': {
        'description': 'Import methods available.',
        'type': 'array',
        'value': list(CONF.enabled_import_methods),
    }})


def usage_info(request):
    """The caller's project's usage and limits; empty without unified
    limits. Any caller may see its own project's (the reference guards
    this with no policy rule)."""
    usage = quota.get_usage(request.environ['glance.context'])
    return wsgi.json_response({'usage': {
        name: {'limit': value.limit, 'usage': value.usage}
        for name, value in usage.items()}})
