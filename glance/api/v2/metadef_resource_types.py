"""Handlers of /v2/metadefs/resource_types and of the resource type
associations of a namespace (.../namespaces/{ns}/resource_types).

Associating a resource type the catalog does not know yet adds it, as
the reference does; the list of resource types shows every known one.
"""

from glance.api.v2 import images
from glance.api.v2 import metadef_schemas as schemas
from glance.api.v2 import metadef_views as views
from glance.common import wsgi


def index(request):
    wsgi.refuse_body(request)
    rows = views.repo(request).list_resource_types()
    return wsgi.json_response({'resource_types': [
        dict(name=row['name'], created_at=images.isotime(row['created_at']),
             updated_at=images.isotime(row['updated_at']))
        for row in rows]})


def list_associations(request, namespace):
    wsgi.refuse_body(request)
    rows = views.repo(request).list_associations(views.url_name(namespace))
    return wsgi.json_response({'resource_type_associations': [
        views.association_view(row) for row in rows]})


def create_association(request, namespace):
    body = schemas.validate('resource_type', wsgi.read_json_body(request),
                            read_only=('created_at', 'updated_at'))
    row = views.repo(request).add_association(views.url_name(namespace),
                                              body)
    return wsgi.json_response(views.association_view(row), status=201)


def delete_association(request, namespace, resource_type):
    wsgi.refuse_body(request)
    views.repo(request).remove_association(views.url_name(namespace),
                                           views.url_name(resource_type))
    return wsgi.no_content()


_ASSOCIATIONS = views.NAMESPACES + '/{namespace}/resource_types'

ROUTES = [
    ('/v2/metadefs/resource_types', 'GET', index),
    (_ASSOCIATIONS, 'GET', list_associations),
    (_ASSOCIATIONS, 'POST', create_association),
    (_ASSOCIATIONS + '/{resource_type}', 'DELETE', delete_association),
]
