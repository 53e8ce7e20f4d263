"""glance-download: import an image from the image service of another region.

The other region's image endpoint comes from the caller's Keystone
service catalog (the X-Service-Catalog that keystonemiddleware passes
on; v2 and v3 catalog formats both work) through keystoneauth, and the
caller's token is used to read the remote image. The remote image must
be active; its disk_format, container_format, min_disk, min_ram and the
properties listed in [glance_download_properties] extra_properties are
copied onto the local image, its data is streamed into staging (hashed
on the way) and must match the remote checksum and multihash. Plugins,
inspection and the stores then follow as for any import.
"""

import json

from keystoneauth1.access import service_catalog
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from oslo_log import log as logging

from glance.async_.flows import import_state
from glance.common import exception
from glance.store import staging

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

BASE_COPIED = ('disk_format', 'container_format', 'min_disk', 'min_ram')
CATALOG_HEADER = 'X-Service-Catalog'


class RemoteError(exception.GlanceError):
    code = 400
    title = 'Bad Request'


def parse_catalog(text):
    """The catalog of an X-Service-Catalog header (JSON list), or None."""
    if not text:
        return None
    try:
        catalog = json.loads(text)
    except ValueError:
        raise exception.BadRequest('Invalid X-Service-Catalog header.')
    if not isinstance(catalog, list):
        raise exception.BadRequest('Invalid X-Service-Catalog header.')
    return catalog


def _catalog_class(catalog):
    for service in catalog:
        for endpoint in service.get('endpoints') or ():
            if 'interface' in endpoint:
                return service_catalog.ServiceCatalogV3
            return service_catalog.ServiceCatalogV2
    return service_catalog.ServiceCatalogV3


def require_catalog(context):
    """The caller's service catalog; 400 when the request has none (no
    Keystone: no other region can be found)."""
    catalog = getattr(context, 'service_catalog', None)
    if not catalog:
        raise exception.BadRequest(
            'glance-download needs the service catalog of the caller '
            '(Keystone); this request carries none.')
    return catalog


def endpoint_for(context, region, interface='public'):
    """The image endpoint of region in the caller's catalog."""
    catalog = require_catalog(context)
    try:
        url = _catalog_class(catalog)(catalog).url_for(
            service_type='image', interface=interface, region_name=region)
    except ks_exc.EndpointNotFound:
        url = None
    if not url:
        raise exception.BadRequest(
            'No %s image service endpoint in region %s in the service '
            'catalog.' % (interface, region))
    url = url.rstrip('/')
    if url.endswith('/v2'):
        url = url[:-3]
    return url


def _session(context):
    return ks_session.Session(user_agent='glance-download')


def _headers(context):
    token = getattr(context, 'auth_token', None)
    return {'X-Auth-Token': token} if token else {}


def _get(context, url, **kwargs):
    try:
        return _session(context).get(url, headers=_headers(context),
                                     authenticated=False, **kwargs)
    except ks_exc.HttpError as e:
        raise RemoteError('The image service of the other region answered '
                          '%s for %s.' % (e.http_status, url))
    except ks_exc.ClientException as e:
        raise RemoteError('The image service of the other region cannot '
                          'be reached at %s: %s' % (url, e))


def _wanted(name):
    for entry in CONF.glance_download_properties.extra_properties:
        if entry.endswith(('_', ':')):
            if name.startswith(entry):
                return True
        elif name == entry:
            return True
    return False


def _method(state):
    return state.import_req.get('method') or {}


def _endpoint(state):
    method = _method(state)
    return endpoint_for(state.context, method.get('glance_region'),
                        method.get('glance_service_interface') or 'public')


def tasks(state):
    class ImportMetadata(import_state.Task):
        """Copies the remote image's formats and chosen properties."""

        def execute(self):
            method = _method(state)
            remote_id = method.get('glance_image_id')
            url = '%s/v2/images/%s' % (_endpoint(state), remote_id)
            remote = _get(state.context, url).json()
            if remote.get('status') != 'active':
                raise RemoteError('The remote image %s is %s, not active.'
                                  % (remote_id, remote.get('status')))
            state.remote = remote
            with state.image_action() as image:
                for name in BASE_COPIED:
                    if remote.get(name) is not None:
                        state.remember(image, name)
                        setattr(image, name, remote[name])
                for name, value in remote.items():
                    if _wanted(name) and isinstance(value, str):
                        state.original_props.setdefault(
                            name, image.extra_properties.get(name))
                        image.extra_properties[name] = value

    class DownloadData(import_state.Task):
        def execute(self):
            remote = state.remote
            url = '%s/v2/images/%s/file' % (_endpoint(state), remote['id'])
            image = state.get_image()
            limit, message = state.storage_limit(image)
            size = remote.get('size')
            if size is not None and size > limit:
                raise exception.LimitExceeded(message)
            response = _get(state.context, url, stream=True)
            staging.discard(state.image_id)
            progress = state.progress('Downloaded', size)
            try:
                chunks = response.iter_content(CONF.data_chunk_size)
                info = staging.write(
                    state.image_id,
                    import_state.limited(chunks, limit, message),
                    disk_format=image.disk_format,
                    extra_algorithms=[
                        a for a in [remote.get('os_hash_algo')] if a] +
                    state.validation_algorithms(),
                    progress=progress, expected_size=size)
            finally:
                response.close()
            if size is not None and info.size != size:
                raise RemoteError('The remote image has %d bytes; %d '
                                  'arrived.' % (size, info.size))
            expected = [('md5', remote.get('checksum')),
                        (remote.get('os_hash_algo'),
                         remote.get('os_hash_value'))]
            for algorithm, value in expected:
                if algorithm and value and \
                        info.hash_of(algorithm) != value:
                    raise RemoteError(
                        'The data of the remote image does not match its '
                        '%s hash.' % algorithm)
            state.info = info

        def revert(self, *args, **kwargs):
            state.discard_staging()

    return [ImportMetadata(state), DownloadData(state)]
