"""Handlers of /v2/images/{id}/stage, /v2/images/{id}/import and
/v2/images/{id}/tasks: the API side of interoperable import.

PUT /stage moves a queued image to uploading and streams the body into
the staging area (hashed and inspected on the way). POST /import checks
the request (method, image status, stores, the web-download URI),
takes the image's import lock and writes the task in one transaction,
hands the task to the executor and answers 202 at once.

Our extension: ``method.validation_data`` (glance-direct, web-download,
glance-download) carries the hash the user expects of the data as
staged or fetched, before any plugin runs:

    {"method": {"name": "web-download", "uri": "https://...",
                "validation_data": {"os_hash_algo": "sha256",
                                    "os_hash_value": "<hex>"}}}

(``checksum``, an MD5 hex digest, may be given too). A mismatch fails
the import and leaves the image queued.
"""

import hashlib
import json
import re
import uuid

from oslo_config import cfg
from oslo_log import log as logging
import requests

from glance.api.v2 import images
from glance.async_ import executor
from glance.async_.flows import api_image_import as flow
from glance.async_.flows import glance_download
from glance.async_.flows import import_state
from glance.async_ import recovery
from glance.common import exception
from glance.common import streams
from glance.common import url_filter
from glance.common import wsgi
from glance import context as glance_context
from glance.db import images as db_images
from glance.db import tasks as db_tasks
from glance.domain import quota
from glance.domain import task as domain_task
from glance import gateway
from glance.store import backends
from glance.store import staging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

OCTET_STREAM = 'application/octet-stream'
METHODS = ('glance-direct', 'web-download', 'copy-image', 'glance-download')
PROXIED_HEADER = 'X-Glance-Import-Proxied'
_HEX = re.compile(r'^[0-9a-fA-F]+$')
# Hash algorithms validation_data may name.
HASH_ALGORITHMS = frozenset(a for a in hashlib.algorithms_guaranteed
                            if not a.startswith('shake_'))


def _admin_repo(reader=None):
    """The service's repository, announcing changes as reader sees them."""
    return gateway.get().get_image_repo(glance_context.admin_context(),
                                        reader=reader)


# -- stage -------------------------------------------------------------

def stage(request, image_id):
    try:
        return _stage(request, image_id)
    except Exception:
        # Keep the connection usable for the client's next request.
        streams.discard_rest(request)
        raise


def _stage(request, image_id):
    if 'glance-direct' not in CONF.enabled_import_methods:
        raise exception.NotFound('The glance-direct import method is not '
                                 'enabled.')
    if request.content_type not in (OCTET_STREAM, ''):
        raise exception.UnsupportedMediaType(
            'Image data must be sent as %s.' % OCTET_STREAM)
    image = images.load(request, image_id, 'upload_image')
    if image.status != 'queued':
        raise exception.Conflict('Image status must be queued to stage '
                                 'data, not %s.' % image.status)
    limit, limit_message = quota.staging_limit(image.owner)
    declared = streams.declared_size(request)
    expected = streams.expected_size(request, declared, limit,
                                     limit_message)
    repo = _admin_repo(reader=images.context_of(request))
    image = repo.get(image.id)
    claim = quota.DataClaim(images.context_of(request).owner, repo.context,
                            image.id, quota.IMAGE_STAGE_TOTAL)

    def start_staging():
        image.set_status('uploading')
        image.extra_properties[import_state.STAGE_HOST] = \
            staging.stage_host()
        repo.save(image)

    claim.start(expected, start_staging)
    chunks = claim.meter(streams.request_chunks(
        request, CONF.data_chunk_size, limit, limit_message,
        declared=declared,
        heartbeat=lambda: db_images.touch(image.id, 'uploading')))
    try:
        info = staging.write(image.id, chunks,
                             disk_format=image.disk_format,
                             expected_size=expected)
        claim.settle(info.size)
    except BaseException:
        staging.discard(image.id)
        _unstage(repo, image.id)
        raise
    try:
        still = repo.get(image.id).status == 'uploading'
    except exception.NotFound:
        still = False
    if not still:
        # Deleted (or reset) while the data arrived.
        staging.discard(image.id)
        raise exception.Conflict('Image %s changed while its data was '
                                 'staged.' % image.id)
    return wsgi.no_content()


def _unstage(repo, image_id):
    try:
        image = repo.get(image_id)
        if image.status == 'uploading':
            image.set_status('queued')
            image.extra_properties.pop(import_state.STAGE_HOST, None)
            repo.save(image)
    except exception.GlanceError:
        LOG.info('Image %s changed while its stage failed', image_id)


# -- import ------------------------------------------------------------

def _check_validation_data(data):
    if not isinstance(data, dict) or not data:
        raise exception.BadRequest('validation_data must be a non-empty '
                                   'object.')
    unknown = set(data) - {'os_hash_algo', 'os_hash_value', 'checksum'}
    if unknown:
        raise exception.BadRequest('Unknown validation_data keys: %s.'
                                   % ', '.join(sorted(unknown)))
    if 'checksum' in data:
        value = data['checksum']
        if not isinstance(value, str) or len(value) != 32 or \
                not _HEX.match(value):
            raise exception.BadRequest('validation_data checksum must be '
                                       'an MD5 hex digest.')
    algo, value = data.get('os_hash_algo'), data.get('os_hash_value')
    if (algo is None) != (value is None):
        raise exception.BadRequest('validation_data needs os_hash_algo and '
                                   'os_hash_value together.')
    if algo is not None:
        if algo not in HASH_ALGORITHMS:
            raise exception.BadRequest(
                'validation_data os_hash_algo must be one of %s.'
                % ', '.join(sorted(HASH_ALGORITHMS)))
        length = hashlib.new(algo).digest_size * 2
        if not isinstance(value, str) or len(value) != length or \
                not _HEX.match(value):
            raise exception.BadRequest(
                'validation_data os_hash_value must be a %s hex digest.'
                % algo)


def _parse_body(request):
    body = wsgi.read_json_body(request)
    if not isinstance(body, dict):
        raise exception.BadRequest('Request body must be a JSON object.')
    method = body.get('method')
    if not isinstance(method, dict) or not isinstance(method.get('name'),
                                                      str):
        raise exception.BadRequest('Import request requires a "method" '
                                   'object with a "name".')
    name = method['name']
    if name not in METHODS:
        raise exception.BadRequest("Import method name '%s' is not valid."
                                   % name)
    if name not in CONF.enabled_import_methods:
        raise exception.BadRequest("Import method '%s' is not enabled."
                                   % name)
    stores = body.get('stores')
    if stores is not None and (not isinstance(stores, list) or not all(
            isinstance(s, str) for s in stores)):
        raise exception.BadRequest('"stores" must be a list of store '
                                   'identifiers.')
    for key in ('all_stores', 'all_stores_must_succeed'):
        if key in body and not isinstance(body[key], bool):
            raise exception.BadRequest('"%s" must be true or false.' % key)
    if stores and body.get('all_stores'):
        raise exception.BadRequest('"stores" and "all_stores" cannot be '
                                   'given together.')
    if 'validation_data' in method:
        if name == 'copy-image':
            raise exception.BadRequest('validation_data does not apply to '
                                       'copy-image.')
        _check_validation_data(method['validation_data'])
    if name == 'web-download':
        if not isinstance(method.get('uri'), str) or not method['uri']:
            raise exception.BadRequest('web-download requires a "uri".')
    elif 'uri' in method:
        raise exception.BadRequest('"uri" is only for web-download.')
    if name == 'glance-download':
        remote_id = method.get('glance_image_id')
        if not isinstance(remote_id, str) or not remote_id:
            raise exception.BadRequest('glance-download requires '
                                       '"glance_image_id", an image id.')
        try:
            uuid.UUID(remote_id)
        except ValueError:
            # The reference's words, which clients look for.
            raise exception.BadRequest('Remote image id does not look like '
                                       'a UUID: %s' % remote_id)
        if not isinstance(method.get('glance_region'), str) or \
                not method['glance_region']:
            raise exception.BadRequest('glance-download requires '
                                       '"glance_region".')
        # Which region and interface exist is the task's to find out, as
        # in the reference: the import is accepted and its task fails.
        if not isinstance(method.get('glance_service_interface', ''), str):
            raise exception.BadRequest('glance_service_interface must be '
                                       'a string.')
    return body


def _target_stores(request, body, image, method):
    """The stores to import into ([None] with a single store)."""
    header = request.headers.get('X-Image-Meta-Store')
    stores = body.get('stores')
    all_stores = body.get('all_stores', False)
    if not backends.multistore():
        if stores or all_stores or header:
            raise exception.BadRequest('Multiple stores are not enabled; '
                                       'stores cannot be chosen.')
        if method == 'copy-image':
            raise exception.BadRequest('copy-image needs multiple stores.')
        return [None]
    known = backends.user_store_types()
    writable = [s for s in backends.store_ids() if known[s] != 'http']
    if all_stores:
        targets = list(writable)
    elif stores:
        targets = list(dict.fromkeys(stores))
    elif header:
        targets = [header]
    elif method == 'copy-image':
        raise exception.BadRequest('copy-image requires "stores" or '
                                   '"all_stores".')
    else:
        targets = [backends.default_store_id()]
    for store in targets:
        if store not in known:
            raise exception.Conflict('Store for identifier %s not found.'
                                     % store)
    if method == 'copy-image':
        present = set(image.stores)
        if not all_stores:
            for store in targets:
                if store in present:
                    raise exception.BadRequest(
                        'Image is already present at store %s.' % store)
        targets = [s for s in targets if s not in present]
    return targets


def _check_state(image, method):
    required = {'glance-direct': 'uploading', 'web-download': 'queued',
                'glance-download': 'queued', 'copy-image': 'active'}[method]
    if image.status != required:
        raise exception.Conflict(
            'Image status must be %s for %s, not %s.'
            % (required, method, image.status))
    # Whatever the method, an image without formats is in no state to
    # take data: 409, as the reference answers.
    if not image.container_format:
        raise exception.Conflict("'container_format' needs to be set "
                                 'before import.')
    if not image.disk_format:
        raise exception.Conflict("'disk_format' needs to be set before "
                                 'import.')


def _release_stale_lock(image):
    holder = image.extra_properties.get(db_tasks.LOCK_PROPERTY)
    if holder is None:
        return False
    if not recovery.break_stale_lock(image.id, holder):
        raise exception.Conflict('Image %s has an import in progress '
                                 '(task %s); wait for it to finish.'
                                 % (image.id, holder))
    return True


def _attach_catalog(request, context):
    if getattr(context, 'service_catalog', None):
        return
    catalog = glance_download.parse_catalog(
        request.headers.get(glance_download.CATALOG_HEADER))
    if catalog:
        context.service_catalog = catalog


def _proxy_to_stage_host(request, body, image):
    """Send a glance-direct import to the node that holds the data."""
    host = image.extra_properties.get(import_state.STAGE_HOST)
    if staging.exists(image.id) or not host or \
            host == staging.stage_host() or \
            not host.startswith(('http://', 'https://')) or \
            request.headers.get(PROXIED_HEADER):
        return None
    headers = {k: v for k, v in request.headers.items()
               if k.lower().startswith('x-') or k.lower() == 'accept'}
    headers['Content-Type'] = 'application/json'
    headers[PROXIED_HEADER] = '1'
    LOG.info('Sending the import of image %s to %s, which holds its '
             'staged data', image.id, host)
    try:
        answer = requests.post(host.rstrip('/') + request.path_qs,
                               data=json.dumps(body), headers=headers,
                               timeout=60)
    except requests.RequestException as e:
        raise exception.ServiceUnavailable(
            'The node holding the staged data (%s) cannot be reached: %s'
            % (host, e))
    import webob
    return webob.Response(status=answer.status_code, body=answer.content,
                          content_type=answer.headers.get('Content-Type'),
                          charset=None)


def _bookkeeping(image, stores):
    props = {import_state.IMPORT_HOST: staging.node_id()}
    if backends.multistore():
        props[import_state.IMPORTING] = ','.join(stores)
        props[import_state.FAILED] = ','.join(
            s for s in import_state.store_list(image.extra_properties.get(
                import_state.FAILED)) if s not in stores)
    return props


def import_image(request, image_id):
    body = _parse_body(request)
    method = body['method']['name']
    context = images.context_of(request)
    rule = 'copy_image' if method == 'copy-image' else 'import_image'
    image = images.load(request, image_id, rule)
    if _release_stale_lock(image):
        image = images.load(request, image_id, rule)
    if method == 'glance-direct':
        proxied = _proxy_to_stage_host(request, body, image)
        if proxied is not None:
            return proxied
    _check_state(image, method)
    stores = _target_stores(request, body, image, method)
    if not stores:
        # copy-image with all_stores to an image in every store already.
        return _accepted()
    if method == 'glance-direct' and not staging.exists(image.id):
        raise exception.Conflict('No staged data found for image %s on '
                                 'this node; stage the data first.'
                                 % image.id)
    quota.check_import(context, method, image, staging.size(image.id)
                       if method == 'glance-direct' else 0)
    if method == 'web-download':
        url_filter.check(body['method']['uri'])
    if method == 'glance-download':
        _attach_catalog(request, context)
        glance_download.require_catalog(context)
    body.setdefault('all_stores_must_succeed', True)
    task = domain_task.new_task(
        flow.TASK_TYPE, owner=context.project_id, user_id=context.user_id,
        request_id=context.request_id, image_id=image.id,
        task_input={'image_id': image.id, 'import_req': body,
                    'backend': stores if backends.multistore() else None})
    new_status = image.status if method == 'copy-image' else 'importing'
    try:
        gateway.get().get_task_repo(context).begin_import(
            task, image.id, image.status, new_status,
            _bookkeeping(image, stores))
    except db_tasks.ImportLocked as e:
        raise exception.Conflict(e.message)
    executor.submit(task.id, context)
    return _accepted()


def _accepted():
    """202 with an empty body (and no task id, as the reference)."""
    response = wsgi.no_content()
    response.status = 202
    response.content_length = 0
    return response


# -- tasks of an image -------------------------------------------------

def _isotime(moment):
    return moment.isoformat() if moment else None


def image_task_view(task):
    return {
        'id': task.id,
        'type': task.type,
        'status': task.status,
        'owner': task.owner,
        'input': task.input,
        'result': task.result,
        'message': task.message,
        'image_id': task.image_id,
        'request_id': task.request_id,
        'user_id': task.user_id,
        'expires_at': _isotime(task.expires_at),
        'created_at': _isotime(task.created_at),
        'updated_at': _isotime(task.updated_at),
        'deleted_at': _isotime(task.deleted_at),
        'deleted': bool(task.deleted),
    }


def image_tasks(request, image_id):
    wsgi.refuse_body(request)
    image = images.load(request, image_id, 'get_image_tasks')
    repo = gateway.get().get_task_repo(images.context_of(request))
    tasks = repo.list_for_image(image.id)
    return wsgi.json_response({'tasks': [image_task_view(t)
                                         for t in tasks]})


_IMAGE = '/v2/images/{image_id}'

ROUTES = [
    (_IMAGE + '/stage', 'PUT', stage),
    (_IMAGE + '/import', 'POST', import_image),
    (_IMAGE + '/tasks', 'GET', image_tasks),
]
