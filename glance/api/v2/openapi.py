"""GET /v2/openapi.json: an OpenAPI 3.1 description of this deployment.

Our extension (the reference has none). Built on each request from the
route table the API actually serves (glance.api.router) and from the
JSON schemas that validate requests (glance.api.v2.schemas), so it
follows the operator's configuration: schema-image.json additions,
enabled import methods, configured stores, optional API modules.
"""

import inspect
import re

from oslo_config import cfg

from glance.api.v2 import schemas
from glance.common import wsgi
from glance.store import backends
from glance import version

CONF = cfg.CONF

OPENAPI_VERSION = '3.1.0'
JSON = 'application/json'
PATCH_MEDIA = 'application/openstack-images-v2.1-json-patch'
OCTET = 'application/octet-stream'
_PARAMETER = re.compile(r'{([^}]+)}')

ERROR = {
    'type': 'object',
    'description': 'An error as the service reports it.',
}
JSON_PATCH = {
    'type': 'array',
    'items': {
        'type': 'object',
        'required': ['op', 'path'],
        'properties': {
            'op': {'enum': ['add', 'replace', 'remove']},
            'path': {'type': 'string'},
            'value': {},
        },
    },
}


def _ref(name):
    return {'$ref': '#/components/schemas/%s' % name}


def _json(schema, description='OK'):
    return {'description': description,
            'content': {JSON: {'schema': schema}}}


def _no_content():
    return {'description': 'No content.'}


def _import_request():
    method = {'type': 'object', 'required': ['name'],
              'properties': {'name': {
                  'enum': list(CONF.enabled_import_methods)}}}
    body = {'type': 'object', 'required': ['method'],
            'properties': {'method': method,
                           'all_stores': {'type': 'boolean'},
                           'all_stores_must_succeed': {'type': 'boolean'}}}
    stores = backends.store_ids() if backends.multistore() else []
    if stores:
        body['properties']['stores'] = {
            'type': 'array', 'items': {'enum': stores}}
    return body


def _operations():
    """(path, method) -> (responses, request body) of the known routes;
    a route not listed here is described with its status codes only."""
    image = '/v2/images/{image_id}'
    members = image + '/members'
    return {
        ('/v2/images', 'GET'): ({'200': _json(_ref('images'))}, None),
        ('/v2/images', 'POST'): ({'201': _json(_ref('image'))},
                                 (JSON, _ref('image'))),
        (image, 'GET'): ({'200': _json(_ref('image'))}, None),
        (image, 'PATCH'): ({'200': _json(_ref('image'))},
                           (PATCH_MEDIA, JSON_PATCH)),
        (image, 'DELETE'): ({'204': _no_content()}, None),
        (image + '/file', 'PUT'): ({'204': _no_content()},
                                   (OCTET, {})),
        (image + '/file', 'GET'): (
            {'200': {'description': 'The image data.',
                     'content': {OCTET: {'schema': {}}}},
             '204': _no_content()}, None),
        (image + '/stage', 'PUT'): ({'204': _no_content()}, (OCTET, {})),
        (image + '/import', 'POST'): (
            {'202': {'description': 'Accepted.'}},
            (JSON, _import_request())),
        (members, 'GET'): ({'200': _json(_ref('members'))}, None),
        (members, 'POST'): ({'200': _json(_ref('member'))},
                            (JSON, {'type': 'object',
                                    'required': ['member'],
                                    'properties': {
                                        'member': {'type': 'string'}}})),
        (members + '/{member_id}', 'GET'): (
            {'200': _json(_ref('member'))}, None),
        (members + '/{member_id}', 'PUT'): (
            {'200': _json(_ref('member'))},
            (JSON, {'type': 'object', 'required': ['status'],
                    'properties': {'status': {
                        'enum': ['pending', 'accepted', 'rejected']}}})),
        ('/v2/tasks', 'GET'): ({'200': _json(_ref('tasks'))}, None),
        ('/v2/tasks', 'POST'): (
            {'201': _json(_ref('task'))}, (JSON, {'type': 'object'})),
        ('/v2/tasks/{task_id}', 'GET'): ({'200': _json(_ref('task'))},
                                         None),
    }


def _summary(handler):
    doc = inspect.getdoc(handler)
    if doc:
        return doc.splitlines()[0]
    return '%s %s' % (handler.__module__.rsplit('.', 1)[-1],
                      handler.__name__.replace('_', ' '))


def _operation(path, method, handler, known):
    responses, body = known.get((path, method), (None, None))
    if responses is None:
        responses = {'2XX': {'description': 'Success.'}}
    responses = dict(responses)
    responses['default'] = _json(_ref('error'), 'An error.')
    operation = {
        'operationId': '%s.%s' % (handler.__module__.rsplit('.', 1)[-1],
                                  handler.__name__),
        'summary': _summary(handler),
        'responses': responses,
    }
    parameters = [{'name': name, 'in': 'path', 'required': True,
                   'schema': {'type': 'string'}}
                  for name in _PARAMETER.findall(path)]
    if parameters:
        operation['parameters'] = parameters
    if body is not None:
        media, schema = body
        operation['requestBody'] = {'required': True,
                                    'content': {media: {'schema': schema}}}
    return operation


def document(table):
    """The OpenAPI document of a route table of (path, method, handler)."""
    known = _operations()
    paths = {}
    for path, method, handler in table:
        paths.setdefault(path, {})[method.lower()] = _operation(
            path, method, handler, known)
    components = {name: build() for name, build in schemas.SCHEMAS.items()}
    components['error'] = ERROR
    return {
        'openapi': OPENAPI_VERSION,
        'info': {
            'title': 'OpenStack Image service API v2',
            'version': version.version_string(),
            'description': 'The Image API v2 as this deployment offers '
                           'it. Import methods: %s.'
                           % ', '.join(CONF.enabled_import_methods),
        },
        'paths': paths,
        'components': {'schemas': components},
    }


def show(request):
    """The OpenAPI 3.1 document of this deployment's API."""
    wsgi.refuse_body(request)
    from glance.api import router
    return wsgi.json_response(document(router.ROUTES +
                                       router.extra_routes()))
