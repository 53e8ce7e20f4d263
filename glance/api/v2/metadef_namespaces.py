"""Handlers of /v2/metadefs/namespaces and /v2/metadefs/namespaces/{ns}.

A namespace groups metadata definitions (objects, properties, tags) and
says which resource types they apply to. Who may do what is policy
(glance.policies.metadef, through the gateway); a protected namespace
cannot be deleted (glance.domain.metadef).
"""

import urllib.parse

from oslo_config import cfg

from glance.api.v2 import images
from glance.api.v2 import list_params
from glance.api.v2 import metadef_schemas as schemas
from glance.api.v2 import metadef_views as views
from glance.common import exception
from glance.common import wsgi
from glance.db import metadefs as db

CONF = cfg.CONF
_LIST_PARAMS = ('limit', 'marker', 'sort_key', 'sort_dir', 'visibility',
                'resource_types')


def _choice(params, name, default, allowed):
    value = params.get(name, default)
    if value not in allowed:
        raise exception.BadRequest('Invalid %s value: %s' % (name, value))
    return value


def _list_query(params):
    limit = params.get('limit')
    limit = (CONF.limit_param_default if limit is None
             else list_params.parse_int('limit', limit))
    resource_types = params.get('resource_types')
    return {
        'limit': min(limit, CONF.api_limit_max),
        'marker': params.get('marker'),
        'sort_key': _choice(params, 'sort_key', 'created_at',
                            db.NAMESPACE_SORT_KEYS),
        'sort_dir': _choice(params, 'sort_dir', 'desc', ('asc', 'desc')),
        'visibility': _choice(params, 'visibility', None,
                              (None, 'public', 'private')),
        'resource_types_in': (resource_types.split(',')
                              if resource_types else None),
    }


def index(request):
    wsgi.refuse_body(request)
    query = _list_query(request.GET)
    page = views.repo(request).list_namespaces(**query)
    params = [(k, v) for k, v in request.GET.items() if k != 'marker']
    encode = urllib.parse.urlencode
    body = {
        # A listed namespace shows its associations, not its contents.
        'namespaces': [views.namespace_view(ns, {
            'resource_type_associations': ns['resource_type_associations']})
            for ns in page],
        'first': views.NAMESPACES + ('?' + encode(params) if params else ''),
        'schema': views.SCHEMAS + 'namespaces',
    }
    if page and len(page) == query['limit']:
        body['next'] = '%s?%s' % (views.NAMESPACES, encode(
            params + [('marker', page[-1]['namespace'])]))
    return wsgi.json_response(body)


def _namespace_values(request, body):
    context = images.context_of(request)
    return {
        'namespace': body['namespace'],
        'display_name': body.get('display_name'),
        'description': body.get('description'),
        'visibility': body.get('visibility') or 'private',
        'protected': body.get('protected') or False,
        'owner': body.get('owner') or context.project_id,
    }


def _objects(body):
    """The objects of a body, each property definition checked."""
    found = body.get('objects') or []
    for obj in found:
        for definition in (obj.get('properties') or {}).values():
            schemas.validate('property', definition, read_only=(),
                             require_name=False)
    return found


def _check_names(body):
    """What the namespace schema leaves open about the definitions it
    carries: each has a name, of at most 80 characters (a longer one
    would not fit its column)."""
    names = list(body.get('properties') or {})
    for key in ('resource_type_associations', 'objects', 'tags'):
        for item in body.get(key) or []:
            if 'name' not in item:
                raise exception.BadRequest('Every item of %s needs a name.'
                                           % key)
            names.append(item['name'])
            names += [item.get('prefix') or '',
                      item.get('properties_target') or '']
    for name in names:
        if len(name) > schemas.NAME_MAX:
            raise exception.BadRequest(
                'Name %r is longer than %d characters.'
                % (name, schemas.NAME_MAX))


def create(request):
    body = schemas.validate('namespace', wsgi.read_json_body(request))
    _check_names(body)
    associations = body.get('resource_type_associations') or []
    tags = body.get('tags') or []
    namespace = views.repo(request).add_namespace(
        _namespace_values(request, body),
        resource_type_associations=associations, objects_=_objects(body),
        properties_=body.get('properties') or {},
        tags_=[tag['name'] for tag in tags])
    contents = {'resource_type_associations': associations,
                'properties': body.get('properties'),
                'objects': [dict(obj) for obj in body.get('objects') or []],
                'tags': tags}
    url = views.namespace_url(namespace['namespace'])
    return wsgi.json_response(views.namespace_view(namespace, contents),
                              status=201, headers={'Location': url})


def show(request, namespace):
    wsgi.refuse_body(request)
    name = views.url_name(namespace)
    found = views.repo(request).show_namespace(name)
    contents = dict(
        found, objects=[views.object_view(name, o) for o in found['objects']],
        properties=views.properties_view(found['properties']))
    view = views.namespace_view(found, contents)
    resource_type = request.GET.get('resource_type')
    if resource_type:
        view = views.with_prefix(view, resource_type)
    return wsgi.json_response(view)


def update(request, namespace):
    body = schemas.validate('namespace', wsgi.read_json_body(request))
    updated = views.repo(request).update_namespace(
        views.url_name(namespace), _namespace_values(request, body))
    return wsgi.json_response(views.namespace_view(updated))


def delete(request, namespace):
    wsgi.refuse_body(request)
    views.repo(request).delete_namespace(views.url_name(namespace))
    return wsgi.no_content()


def _delete_all(kind):
    def handler(request, namespace):
        wsgi.refuse_body(request)
        views.repo(request).delete_children(views.url_name(namespace), kind)
        return wsgi.no_content()
    handler.__name__ = 'delete_%s' % kind
    return handler


delete_objects = _delete_all('objects')
delete_properties = _delete_all('properties')
delete_tags = _delete_all('tags')

_ONE = views.NAMESPACES + '/{namespace}'

ROUTES = [
    (views.NAMESPACES, 'GET', index),
    (views.NAMESPACES, 'POST', create),
    (_ONE, 'GET', show),
    (_ONE, 'PUT', update),
    (_ONE, 'DELETE', delete),
    (_ONE + '/objects', 'DELETE', delete_objects),
    (_ONE + '/properties', 'DELETE', delete_properties),
    (_ONE + '/tags', 'DELETE', delete_tags),
]
