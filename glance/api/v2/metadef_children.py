"""Handlers of the objects, properties and tags of a namespace:
/v2/metadefs/namespaces/{ns}/objects[/{name}], .../properties[/{name}]
and .../tags[/{name}].

The namespace is looked up (and its rule checked) by the repository the
gateway gives; what is inside is validated against the metadef schemas.
"""

from oslo_config import cfg
from oslo_utils import strutils

from glance.api.v2 import list_params
from glance.api.v2 import metadef_schemas as schemas
from glance.api.v2 import metadef_views as views
from glance.common import exception
from glance.common import wsgi
from glance.db import metadefs as db

CONF = cfg.CONF
_ONE = views.NAMESPACES + '/{namespace}'


def _page_query(params):
    """limit, marker, sort_key and sort_dir of a list of children."""
    query = {'marker': params.get('marker'),
             'sort_key': params.get('sort_key', 'created_at'),
             'sort_dir': params.get('sort_dir', 'desc')}
    if query['sort_key'] not in db.TAG_SORT_KEYS:
        raise exception.BadRequest('Invalid sort_key: %s' %
                                   query['sort_key'])
    if query['sort_dir'] not in ('asc', 'desc'):
        raise exception.BadRequest('Invalid sort direction: %s' %
                                   query['sort_dir'])
    if params.get('limit'):
        query['limit'] = min(list_params.parse_int('limit', params['limit']),
                             CONF.api_limit_max)
    return query


def _url_args(namespace, name=None):
    args = [views.url_name(namespace)]
    if name is not None:
        args.append(views.url_name(name))
    return args


# --- objects ------------------------------------------------------------

def _object_body(request):
    body = schemas.validate('object', wsgi.read_json_body(request))
    for definition in (body.get('properties') or {}).values():
        schemas.validate('property', definition, read_only=(),
                         require_name=False)
    return body


def list_objects(request, namespace):
    wsgi.refuse_body(request)
    name = views.url_name(namespace)
    rows = views.repo(request).list_children(name, 'objects',
                                             **_page_query(request.GET))
    # The reference's (relative) schema link, kept for compatibility.
    return wsgi.json_response({
        'objects': [views.object_view(name, row) for row in rows],
        'schema': 'v2/schemas/metadefs/objects'})


def create_object(request, namespace):
    body = _object_body(request)
    name = views.url_name(namespace)
    row = views.repo(request).add_child(name, 'objects', body)
    return wsgi.json_response(views.object_view(name, row), status=201)


def show_object(request, namespace, object_name):
    wsgi.refuse_body(request)
    args = _url_args(namespace, object_name)
    row = views.repo(request).get_child(args[0], 'objects', args[1])
    return wsgi.json_response(views.object_view(args[0], row))


def update_object(request, namespace, object_name):
    body = _object_body(request)
    args = _url_args(namespace, object_name)
    row = views.repo(request).update_child(args[0], 'objects', args[1], body)
    return wsgi.json_response(views.object_view(args[0], row))


def delete_object(request, namespace, object_name):
    wsgi.refuse_body(request)
    args = _url_args(namespace, object_name)
    views.repo(request).delete_child(args[0], 'objects', args[1])
    return wsgi.no_content()


# --- properties ---------------------------------------------------------

def _property_body(request):
    body = schemas.validate('property', wsgi.read_json_body(request),
                            read_only=('created_at', 'updated_at'))
    return views.definition(body) | {'name': body['name']}


def list_properties(request, namespace):
    wsgi.refuse_body(request)
    rows = views.repo(request).list_children(views.url_name(namespace),
                                             'properties', sort_dir='asc')
    return wsgi.json_response({'properties': views.properties_view(rows)})


def create_property(request, namespace):
    body = _property_body(request)
    row = views.repo(request).add_child(views.url_name(namespace),
                                        'properties', body)
    return wsgi.json_response(views.property_view(row), status=201)


def show_property(request, namespace, property_name):
    wsgi.refuse_body(request)
    namespace, name = _url_args(namespace, property_name)
    repo = views.repo(request)
    resource_type = request.GET.get('resource_type')
    if resource_type:
        # The name as a resource of that type carries it (prefixed).
        row = repo.get_prefixed_property(namespace, name, resource_type)
    else:
        row = repo.get_child(namespace, 'properties', name)
    return wsgi.json_response(views.property_view(row))


def update_property(request, namespace, property_name):
    body = _property_body(request)
    args = _url_args(namespace, property_name)
    row = views.repo(request).update_child(args[0], 'properties', args[1],
                                           body)
    return wsgi.json_response(views.property_view(row))


def delete_property(request, namespace, property_name):
    wsgi.refuse_body(request)
    args = _url_args(namespace, property_name)
    views.repo(request).delete_child(args[0], 'properties', args[1])
    return wsgi.no_content()


# --- tags ---------------------------------------------------------------

def list_tags(request, namespace):
    wsgi.refuse_body(request)
    rows = views.repo(request).list_children(
        views.url_name(namespace), 'tags', **_page_query(request.GET))
    return wsgi.json_response({'tags': [{'name': r['name']} for r in rows]})


def create_tags(request, namespace):
    body = schemas.validate('tags-request', wsgi.read_json_body(request),
                            read_only=('created_at', 'updated_at'))
    append = strutils.bool_from_string(
        request.headers.get('X-Openstack-Append'))
    names = [tag['name'] for tag in body['tags']]
    rows = views.repo(request).add_tags(views.url_name(namespace), names,
                                        append)
    return wsgi.json_response({'tags': [{'name': r['name']} for r in rows]},
                              status=201)


def create_tag(request, namespace, tag_name):
    wsgi.refuse_body(request)
    args = _url_args(namespace, tag_name)
    schemas.validate('tag', {'name': args[1]})
    row = views.repo(request).add_child(args[0], 'tags', {'name': args[1]})
    return wsgi.json_response(views.tag_view(row), status=201)


def show_tag(request, namespace, tag_name):
    wsgi.refuse_body(request)
    args = _url_args(namespace, tag_name)
    row = views.repo(request).get_child(args[0], 'tags', args[1])
    return wsgi.json_response(views.tag_view(row))


def update_tag(request, namespace, tag_name):
    body = schemas.validate('tag', wsgi.read_json_body(request),
                            read_only=('created_at', 'updated_at'))
    args = _url_args(namespace, tag_name)
    row = views.repo(request).update_child(args[0], 'tags', args[1], body)
    return wsgi.json_response(views.tag_view(row))


def delete_tag(request, namespace, tag_name):
    wsgi.refuse_body(request)
    args = _url_args(namespace, tag_name)
    views.repo(request).delete_child(args[0], 'tags', args[1])
    return wsgi.no_content()


ROUTES = [
    (_ONE + '/objects', 'GET', list_objects),
    (_ONE + '/objects', 'POST', create_object),
    (_ONE + '/objects/{object_name}', 'GET', show_object),
    (_ONE + '/objects/{object_name}', 'PUT', update_object),
    (_ONE + '/objects/{object_name}', 'DELETE', delete_object),
    (_ONE + '/properties', 'GET', list_properties),
    (_ONE + '/properties', 'POST', create_property),
    (_ONE + '/properties/{property_name}', 'GET', show_property),
    (_ONE + '/properties/{property_name}', 'PUT', update_property),
    (_ONE + '/properties/{property_name}', 'DELETE', delete_property),
    (_ONE + '/tags', 'GET', list_tags),
    (_ONE + '/tags', 'POST', create_tags),
    (_ONE + '/tags/{tag_name}', 'GET', show_tag),
    (_ONE + '/tags/{tag_name}', 'POST', create_tag),
    (_ONE + '/tags/{tag_name}', 'PUT', update_tag),
    (_ONE + '/tags/{tag_name}', 'DELETE', delete_tag),
]
