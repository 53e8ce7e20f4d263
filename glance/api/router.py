"""The one table of every v2 URL, method and handler.

A path with no route for the request's method answers 405 with an Allow
header; a path that matches nothing answers 404.
"""

import collections

import routes

from glance.api.v2 import cached_images
from glance.api.v2 import discovery
from glance.api.v2 import images
from glance.api.v2 import metadef_children
from glance.api.v2 import metadef_namespaces
from glance.api.v2 import metadef_resource_types
from glance.api.v2 import metadef_schemas
from glance.api.v2 import openapi
from glance.common import exception
from glance.common import wsgi

_IMAGE = '/v2/images/{image_id}'

ROUTES = [
    # path, method, handler
    ('/v2/images', 'GET', images.index),
    ('/v2/images', 'POST', images.create),
    (_IMAGE, 'GET', images.show),
    (_IMAGE, 'PATCH', images.update),
    (_IMAGE, 'DELETE', images.delete),
    (_IMAGE + '/actions/deactivate', 'POST', images.deactivate),
    (_IMAGE + '/actions/reactivate', 'POST', images.reactivate),
    (_IMAGE + '/tags/{tag}', 'PUT', images.add_tag),
    (_IMAGE + '/tags/{tag}', 'DELETE', images.delete_tag),
    ('/v2/schemas/{name}', 'GET', discovery.show_schema),
    ('/v2/info/import', 'GET', discovery.import_info),
    # Metadata definitions (/v2/metadefs): each module's rows.
    *metadef_namespaces.ROUTES,
    *metadef_children.ROUTES,
    *metadef_resource_types.ROUTES,
    *metadef_schemas.ROUTES,
    ('/v2/cache', 'GET', cached_images.cache_state),
    ('/v2/cache', 'DELETE', cached_images.clear),
    ('/v2/cache/{image_id}', 'PUT', cached_images.queue_image),
    ('/v2/cache/{image_id}', 'DELETE', cached_images.delete_entry),
    ('/v2/cache/nodes/{image_id}', 'GET', cached_images.cached_nodes),
    ('/v2/cache/clean', 'POST', cached_images.clean),
    ('/v2/cache/prune', 'POST', cached_images.prune),
    ('/v2/info/usage', 'GET', discovery.usage_info),
    ('/v2/openapi.json', 'GET', openapi.show),
]


def extra_routes():
    """Routes contributed by the data, import and sharing handlers."""
    table = []
    for module_name in ('glance.api.v2.image_data',
                        'glance.api.v2.image_import',
                        'glance.api.v2.image_members',
                        'glance.api.v2.tasks',
                        'glance.api.v2.stores',
                        'glance.api.v2.locations'):
        try:
            module = __import__(module_name, fromlist=['ROUTES'])
        except ImportError as e:
            if e.name != module_name:
                raise
            continue
        table.extend(module.ROUTES)
    return table


def _method_not_allowed(allowed):
    def handler(request, **kwargs):
        raise exception.MethodNotAllowed(
            'The method %s is not allowed for this resource.'
            % request.method, headers={'Allow': ', '.join(allowed)})
    return handler


def _not_found(request, **kwargs):
    raise exception.NotFound('The resource could not be found.')


class API:
    """Matches a request against the table and calls its handler."""

    def __init__(self, table=None):
        table = list(table if table is not None else ROUTES + extra_routes())
        self.mapper = routes.Mapper()
        self.mapper.minimization = False
        allowed = collections.OrderedDict()
        for path, method, handler in table:
            self.mapper.connect(path, resource=wsgi.Resource(handler),
                                conditions={'method': [method]})
            allowed.setdefault(path, []).append(method)
        for path, methods in allowed.items():
            self.mapper.connect(
                path, resource=wsgi.Resource(_method_not_allowed(methods)))
        self.not_found = wsgi.Resource(_not_found)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls()

    def __call__(self, environ, start_response):
        match = self.mapper.match(environ=environ)
        if match is None:
            environ['wsgiorg.routing_args'] = ((), {})
            return self.not_found(environ, start_response)
        resource = match.pop('resource')
        environ['wsgiorg.routing_args'] = ((), match)
        return resource(environ, start_response)
