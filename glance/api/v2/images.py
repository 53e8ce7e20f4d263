"""Handlers of /v2/images and /v2/images/{image_id}."""

import urllib.parse
import uuid

from oslo_config import cfg
from oslo_log import log as logging

from glance.api.v2 import json_patch
from glance.api.v2 import legacy_locations
from glance.api.v2 import list_params
from glance.api.v2 import schemas
from glance.common import exception
from glance.common import wsgi
from glance.domain import image as domain
from glance.domain import quota
from glance import gateway
from glance.store import backends
from glance.store import staging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

# Bookkeeping of the service that nobody needs to see.
HIDDEN_PROPERTIES = frozenset((
    'os_glance_stage_host', 'os_glance_hash_op_host',
    'os_glance_upload_host', 'os_glance_import_host'))

# What a user may not send in POST /v2/images: read-only attributes are
# refused, except these two, which the reference silently drops.
IGNORED_ON_CREATE = ('os_hash_algo', 'os_hash_value')


def context_of(request):
    return request.environ['glance.context']


def image_repo(request):
    return gateway.get().get_image_repo(context_of(request))


def isotime(moment):
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ') if moment else None


def image_view(image):
    """The image as the API shows it."""
    view = {
        'id': image.id,
        'name': image.name,
        'status': image.status,
        'visibility': image.visibility,
        'protected': bool(image.protected),
        'os_hidden': bool(image.os_hidden),
        'checksum': image.checksum,
        'os_hash_algo': image.os_hash_algo,
        'os_hash_value': image.os_hash_value,
        'owner': image.owner,
        'size': image.size,
        'virtual_size': image.virtual_size,
        'container_format': image.container_format,
        'disk_format': image.disk_format,
        'min_disk': image.min_disk,
        'min_ram': image.min_ram,
        'created_at': isotime(image.created_at),
        'updated_at': isotime(image.updated_at),
        'tags': sorted(image.tags),
        'self': '/v2/images/%s' % image.id,
        'file': '/v2/images/%s/file' % image.id,
        'schema': '/v2/schemas/image',
    }
    for name, value in image.extra_properties.items():
        if name not in view and name not in HIDDEN_PROPERTIES:
            view[name] = value
    if backends.multistore() and image.stores:
        # An image without data has no "stores" key at all.
        view['stores'] = ','.join(image.stores)
    active = [loc for loc in image.locations if loc['status'] == 'active']
    if CONF.show_image_direct_url and active:
        view['direct_url'] = active[0]['url']
    if CONF.show_multiple_locations:
        view['locations'] = [{'url': loc['url'],
                              'metadata': loc['metadata']}
                             for loc in active]
    return view


def create_headers():
    headers = {'OpenStack-image-import-methods':
               ','.join(CONF.enabled_import_methods)}
    if backends.multistore():
        headers['OpenStack-image-store-ids'] = ','.join(backends.store_ids())
    return headers


def _check_writable_name(name, creating):
    if name in domain.READONLY:
        raise exception.ReadonlyProperty(name)
    if name == 'locations' and creating:
        raise exception.ReservedProperty(name)
    if domain.is_reserved_name(name):
        raise exception.ReservedProperty(name)


def _check_property_key(name):
    if len(name) > 255:
        raise exception.BadRequest('Property names are at most 255 '
                                   'characters long.')


def create(request):
    body = wsgi.read_json_body(request)
    if not isinstance(body, dict):
        raise exception.BadRequest('Request body must be a JSON object.')
    context = context_of(request)
    values = {}
    for name, value in body.items():
        if name in IGNORED_ON_CREATE:
            continue
        if name != 'id':
            # A caller may choose the id (validated by the schema).
            _check_writable_name(name, creating=True)
        _check_property_key(name)
        values[name] = value
    schemas.validate_image(values)
    schemas.check_required(values)
    base = {k: values.pop(k) for k in list(values) if k in domain.USER_BASE}
    tags = values.pop('tags', [])
    image_id = values.pop('id', None)
    if 'owner' in base and base['owner'] != context.project_id \
            and not context.is_admin:
        raise exception.Forbidden('You are not permitted to create images '
                                  'owned by another project.')
    owner = base.pop('owner', context.owner)
    image = gateway.get().image_factory.new_image(
        owner=owner, image_id=image_id, extra_properties=values,
        tags=set(tags), **base)
    quota.check_image(image)
    with quota.creating_image(context):
        image_repo(request).add(image)
    headers = {'Location': request.host_url + '/v2/images/%s' % image.id}
    headers.update(create_headers())
    return wsgi.json_response(image_view(image), status=201,
                              headers=headers)


def index(request):
    query = list_params.parse(request.GET, CONF.limit_param_default,
                              CONF.api_limit_max)
    if query.limit == 0:
        page = []
    else:
        page = image_repo(request).list(
            filters=query.filters, properties=query.properties,
            tags=query.tags, visibility=query.visibility,
            member_status=query.member_status, marker=query.marker,
            limit=query.limit, sort_keys=query.sort_keys,
            sort_dirs=query.sort_dirs)
    params = [(k, v) for k, v in request.GET.items() if k != 'marker']
    body = {
        'images': [image_view(image) for image in page],
        'first': '/v2/images' + (
            '?' + urllib.parse.urlencode(params) if params else ''),
        'schema': '/v2/schemas/images',
    }
    if page and len(page) == query.limit:
        next_params = params + [('marker', page[-1].id)]
        body['next'] = '/v2/images?' + urllib.parse.urlencode(next_params)
    return wsgi.json_response(body)


def _checked_id(image_id):
    try:
        uuid.UUID(image_id)
    except ValueError:
        raise exception.ImageNotFound(image_id)
    return image_id


def load(request, image_id, rule):
    """The image, checked against the operation's one policy rule."""
    return image_repo(request).get(_checked_id(image_id), rule=rule)


def show(request, image_id):
    wsgi.refuse_body(request)
    return wsgi.json_response(image_view(load(request, image_id,
                                              'get_image')))


def _apply_change(context, image, change, draft4=False):
    name = change.path[0]
    if name == 'locations':
        return legacy_locations.apply(context, image, change)
    _check_writable_name(name, creating=False)
    if len(change.path) != 1:
        raise exception.BadRequest('Invalid JSON pointer for this resource: '
                                   "'/%s'" % '/'.join(change.path))
    _check_property_key(name)
    if draft4 and change.op == 'add' and (
            name in domain.USER_BASE or name == 'tags' or
            name in image.extra_properties):
        # Under the v2.0 (draft 4) media type "add" does not overwrite.
        raise exception.Conflict('Property %s already present.' % name)
    if name in domain.USER_BASE or name == 'tags':
        if change.op == 'remove':
            raise exception.Forbidden('Properties %s must not be removed.'
                                      % name)
        schemas.validate_image_property(name, change.value)
        if name == 'tags':
            image.tags = set(change.value)
        elif name == 'owner':
            if change.value != image.owner and not context.is_admin:
                raise exception.Forbidden('Only an administrator may change '
                                          'the owner of an image.')
            image.owner = change.value
        else:
            setattr(image, name, change.value)
        return
    exists = name in image.extra_properties
    if change.op == 'remove':
        if not exists:
            raise exception.Conflict("Property %s does not exist." % name)
        del image.extra_properties[name]
        return
    if change.op == 'replace' and not exists:
        raise exception.Conflict("Property %s does not exist." % name)
    schemas.validate_image_property(name, change.value)
    image.extra_properties[name] = change.value


def update(request, image_id):
    media_type = request.content_type
    if media_type not in json_patch.MEDIA_TYPES:
        raise exception.UnsupportedMediaType(
            'Unsupported Content-Type %s; use one of %s.'
            % (media_type or '(none)', json_patch.ACCEPT_PATCH),
            headers={'Accept-Patch': json_patch.ACCEPT_PATCH})
    changes = json_patch.parse(wsgi.read_json_body(request), media_type)
    context = context_of(request)
    repo = image_repo(request)
    image = repo.get(_checked_id(image_id), rule='modify_image')
    old_visibility = image.visibility
    for change in changes:
        _apply_change(context, image, change,
                      draft4=media_type == json_patch.MEDIA_TYPE_20)
    quota.check_image(image)
    repo.save(image, visibility_changed=image.visibility != old_visibility)
    return wsgi.json_response(image_view(image))


def delete(request, image_id):
    wsgi.refuse_body(request)
    repo = image_repo(request)
    image = repo.get(_checked_id(image_id), rule='delete_image')
    staged = image.status in ('uploading', 'importing')
    image.delete(delayed=CONF.delayed_delete)
    repo.remove(image)
    if staged:
        staging.discard(image.id)
    if image.status == 'deleted':
        for location in image.locations:
            try:
                backends.delete(location['url'],
                                location['metadata'].get('store'))
            except Exception:
                LOG.exception('Could not delete the data of image %s at %s',
                              image.id, location['url'])
    return wsgi.no_content()


def deactivate(request, image_id):
    wsgi.refuse_body(request)
    repo = image_repo(request)
    image = repo.get(_checked_id(image_id), rule='deactivate')
    image.deactivate()
    repo.save(image)
    return wsgi.no_content()


def reactivate(request, image_id):
    wsgi.refuse_body(request)
    repo = image_repo(request)
    image = repo.get(_checked_id(image_id), rule='reactivate')
    image.reactivate()
    repo.save(image)
    return wsgi.no_content()


def _decode_tag(tag):
    # PEP 3333 servers hand the path over as latin-1; tags are UTF-8.
    try:
        tag = tag.encode('latin-1').decode('utf-8')
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise exception.BadRequest('Tags must be UTF-8.')
    if len(tag) > 255:
        raise exception.BadRequest('Tags are at most 255 characters long.')
    return tag


def add_tag(request, image_id, tag):
    wsgi.refuse_body(request)
    tag = _decode_tag(tag)
    repo = image_repo(request)
    image = repo.get(_checked_id(image_id), rule='modify_image')
    if tag not in image.tags:
        image.tags.add(tag)
        quota.check_tags(image)
        repo.save(image)
    return wsgi.no_content()


def delete_tag(request, image_id, tag):
    wsgi.refuse_body(request)
    tag = _decode_tag(tag)
    repo = image_repo(request)
    image = repo.get(_checked_id(image_id), rule='modify_image')
    if tag not in image.tags:
        raise exception.NotFound('Tag %s not found.' % tag)
    image.tags.discard(tag)
    repo.save(image)
    return wsgi.no_content()
