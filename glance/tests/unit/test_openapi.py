"""The OpenAPI 3.1 document of /v2/openapi.json."""

import json

from glance_store import multi_backend
from openapi_spec_validator import OpenAPIV31SpecValidator
import pytest

from glance.api import router
from glance.api.v2 import openapi
from glance.api.v2 import schemas
from glance.store import backends


@pytest.fixture(autouse=True)
def fresh_schemas(conf):
    backends.register_opts()
    schemas.image_schema.cache_clear()
    schemas.images_schema.cache_clear()
    yield
    schemas.image_schema.cache_clear()
    schemas.images_schema.cache_clear()


def _document():
    return openapi.document(router.ROUTES + router.extra_routes())


def _errors(document):
    return list(OpenAPIV31SpecValidator(document).iter_errors())


def test_document_is_valid_openapi_3_1():
    document = _document()
    assert document['openapi'].startswith('3.1.')
    assert _errors(document) == []
    # And it is plain JSON.
    assert json.loads(json.dumps(document)) == document


def test_every_route_is_described():
    document = _document()
    table = router.ROUTES + router.extra_routes()
    for path, method, handler in table:
        operation = document['paths'][path][method.lower()]
        assert operation['responses']
        for name in ('image_id', 'member_id', 'task_id'):
            if '{%s}' % name in path:
                assert name in [p['name'] for p in operation['parameters']]
    described = {(p, m.upper()) for p, ops in document['paths'].items()
                 for m in ops}
    assert described == {(p, m) for p, m, _h in table}
    assert ('/v2/openapi.json', 'GET') in described


def test_schemas_are_those_that_validate_requests():
    document = _document()
    components = document['components']['schemas']
    assert components['image'] == schemas.image_schema()
    assert components['task'] == schemas.task_schema()
    create = document['paths']['/v2/images']['post']
    assert create['requestBody']['content']['application/json'][
        'schema'] == {'$ref': '#/components/schemas/image'}


def test_invalid_document_is_caught():
    # The validator is not a rubber stamp.
    document = _document()
    del document['info']
    document['paths']['/v2/images']['get']['operationId'] = 42
    assert _errors(document)


def _import_body(document):
    operation = document['paths']['/v2/images/{image_id}/import']['post']
    return operation['requestBody']['content']['application/json']['schema']


def test_follows_enabled_import_methods(conf):
    conf.config(enabled_import_methods=['glance-direct'])
    body = _import_body(_document())
    assert body['properties']['method']['properties']['name']['enum'] == \
        ['glance-direct']
    assert 'stores' not in body['properties']


def test_follows_enabled_stores(conf):
    conf.config(enabled_backends={'fast': 'file', 'cheap': 'file'})
    multi_backend.register_store_opts(
        conf.conf, reserved_stores=backends.RESERVED_STORES)
    conf.config(default_backend='cheap', group='glance_store')
    document = _document()
    assert _import_body(document)['properties']['stores']['items'][
        'enum'] == ['cheap', 'fast']
    assert _errors(document) == []


def test_follows_schema_image_additions(conf, tmp_path):
    path = tmp_path / 'schema-image.json'
    path.write_text(json.dumps({'os_distro_flavour': {
        'type': 'string', 'description': 'An operator addition.'}}))
    conf.config(schema_image_file=str(path))
    document = _document()
    properties = document['components']['schemas']['image']['properties']
    assert 'os_distro_flavour' in properties
    assert _errors(document) == []
