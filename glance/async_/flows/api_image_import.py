"""The flow of an interoperable import (task type api_image_import).

One linear taskflow flow per import:

    ImageLock                  the task still holds the image's lock;
                               its revert puts the image back (last)
    <method>                   glance-direct: the staged data is there
                               web-download: URI -> staging
                               glance-download: remote image -> staging
                               copy-image: an existing store -> staging
    VerifyValidationData       the expected hash, if the request gave one
    <plugins>                  [image_import_opts] image_import_plugins,
                               in order (never for copy-image)
    Inspect                    the declared disk_format matches the data,
                               no unsafe qcow2/vmdk features; virtual_size
    ImportToStore x N          staging -> each target store
    Complete                   the image becomes active; staging cleaned

Data is hashed and inspected while it enters the staging area; as long
as no plugin rewrote the staged file, those figures are used as they are
and nothing reads the data again. A file store on the same file system
as the staging area gets the staged file by a hard link (no copy); other
stores get a streamed copy, whose hashes must match.

When a task fails, the engine reverts the tasks that ran, newest first:
data written to stores is deleted, and ImageLock's revert returns the
image to queued (copy-image: it stays active), records the stores that
did not get the data in os_glance_failed_import, drops the lock and
removes the staged data.
"""

import os

from oslo_config import cfg
from oslo_log import log as logging
from stevedore import named
from taskflow import engines
from taskflow import exceptions as tf_exc
from taskflow.patterns import linear_flow

from glance.async_ import executor
from glance.async_.flows import import_state
from glance.async_ import http_fetch
from glance.common import exception
from glance.store import backends
from glance.store import staging
from glance.store import writer

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

TASK_TYPE = 'api_image_import'
PLUGIN_NAMESPACE = 'glance.image_import.plugins'


class _GlanceDirect(import_state.Task):
    def execute(self):
        if not staging.exists(self.state.image_id):
            raise exception.NotFound(
                'No staged data found for image %s on this node; stage '
                'the data again.' % self.state.image_id)


class _WebDownload(import_state.Task):
    def execute(self):
        state = self.state
        uri = state.import_req['method']['uri']
        image = state.get_image()
        limit, message = state.storage_limit(image)
        staging.discard(state.image_id)
        response = http_fetch.open_uri(uri)
        if response.length is not None and response.length > limit:
            response.close()
            raise exception.LimitExceeded(message)
        progress = state.progress('Downloaded', response.length)
        state.info = staging.write(
            state.image_id, import_state.limited(response, limit, message),
            disk_format=image.disk_format,
            extra_algorithms=state.validation_algorithms(),
            progress=progress, expected_size=response.length)
        progress.report()

    def revert(self, *args, **kwargs):
        self.state.discard_staging()


def _same_device(a, b):
    try:
        return os.stat(a).st_dev == os.stat(os.path.dirname(b)).st_dev
    except OSError:
        return False


class _CopyImage(import_state.Task):
    """Brings an active image's data from one of its stores to staging."""

    def execute(self):
        state = self.state
        image = state.get_image()
        staging.discard(state.image_id)
        target = state.staging_path
        locations = sorted(image.active_locations, key=lambda loc: (
            backends.file_path(loc['url']) is None,
            -backends.weight(loc['metadata'].get('store'))))
        last_error = None
        for location in locations:
            store = location['metadata'].get('store')
            path = backends.file_path(location['url'])
            try:
                if path is not None and _same_device(path, target):
                    try:
                        os.link(path, target)
                        state.info = staging.StageInfo(
                            size=image.size, checksum=image.checksum,
                            os_hash_algo=image.os_hash_algo,
                            os_hash_value=image.os_hash_value,
                            extra_hashes={}, disk_format=image.disk_format,
                            virtual_size=image.virtual_size,
                            identity=staging._identity(target))
                        return
                    except OSError as e:
                        if e.errno not in writer.NO_LINK_ERRNOS:
                            raise
                chunks, _size = backends.read(location['url'], store)
                progress = state.progress('Copied', image.size)
                info = staging.write(state.image_id, chunks,
                                     progress=progress,
                                     expected_size=image.size)
                if image.checksum and info.checksum != image.checksum:
                    staging.discard(state.image_id)
                    raise exception.GlanceError(
                        'The data of image %s in store %s does not match '
                        'its checksum.' % (image.id, store))
                info.disk_format = image.disk_format
                info.virtual_size = image.virtual_size
                state.info = info
                return
            except Exception as e:
                last_error = e
                LOG.warning('Cannot read image %s from %s: %s', image.id,
                            location['url'], e)
        raise exception.GlanceError(
            'The data of image %s cannot be read from any store%s'
            % (image.id, ': %s' % executor.describe_error(last_error)
               if last_error else '.'))

    def revert(self, *args, **kwargs):
        self.state.discard_staging()


class _VerifyValidationData(import_state.Task):
    """The data as fetched or staged has the hash the user expects."""

    def execute(self):
        state = self.state
        data = state.import_req['method']['validation_data']
        info = staging.load_info(state.image_id)
        checks = []
        if data.get('checksum'):
            checks.append(('md5', data['checksum']))
        if data.get('os_hash_algo'):
            checks.append((data['os_hash_algo'], data['os_hash_value']))
        for algorithm, expected in checks:
            actual = info.hash_of(algorithm) if info else None
            if actual is None:
                actual = staging.hash_file(
                    state.staging_path, [algorithm],
                    progress=state.progress('Hashed'))[algorithm]
            if actual.lower() != expected.lower():
                raise import_state.ValidationFailed(
                    'The %s hash of the data is %s, not the expected %s; '
                    'the data was discarded.' % (algorithm, actual,
                                                 expected))


class _Inspect(import_state.Task):
    """Format inspection of the final data, and its hashes."""

    def execute(self):
        state = self.state
        image = state.get_image()
        info = staging.load_info(state.image_id)
        if info is None or info.disk_format != image.disk_format:
            if not staging.exists(state.image_id):
                raise exception.NotFound('The staged data of image %s is '
                                         'gone.' % image.id)
            info = staging.scan(
                state.image_id, image.disk_format,
                progress=state.progress('Inspected',
                                        staging.size(state.image_id)))
        info.check_format()
        limit, message = state.storage_limit(image)
        if info.size > limit:
            raise exception.LimitExceeded(message)
        if image.disk_format == 'raw' and not info.virtual_size:
            info.virtual_size = info.size
        state.info = info


def _link_into_file_store(state, store):
    info = state.info
    return writer.link_file(state.image_id, state.staging_path, store,
                            info.size, info.checksum, info.os_hash_algo,
                            info.os_hash_value)


def _copy_into_store(state, store):
    info = state.info
    progress = state.progress('Copied to %s' % (store or 'the store'),
                              info.size)
    chunks = staging.read_chunks(state.staging_path, CONF.data_chunk_size)

    def counted():
        done = 0
        for chunk in chunks:
            done += len(chunk)
            progress(done)
            yield chunk

    written = writer.write(state.image_id, counted(), size=info.size,
                           store_id=store, context=state.admin_context)
    if written.size != info.size or written.checksum != info.checksum:
        backends.delete(written.url, store)
        raise exception.GlanceError(
            'The data changed while it was copied to store %s.' % store)
    if written.os_hash_algo != info.os_hash_algo:
        written.os_hash_algo = info.os_hash_algo
        written.os_hash_value = info.os_hash_value
    return written


def store_data(state, store):
    written = None
    if backends.store_type(store) == 'file':
        written = _link_into_file_store(state, store)
    if written is None:
        written = _copy_into_store(state, store)
    return written


class _ImportToStore(import_state.Task):
    def __init__(self, state, store):
        super().__init__(state, name='ImportToStore-%s' % (store or
                                                           'default'))
        self.store = store

    def execute(self):
        state = self.state
        state.repo.notify_prepare(state.get_image, backend=self.store)
        try:
            written = store_data(state, self.store)
        except Exception as e:
            reason = executor.describe_error(e)
            state.repo.notify_upload_failed(state.image_id, reason)
            if state.must_succeed or len(state.stores) == 1:
                raise
            LOG.warning('Import of image %s into store %s failed: %s',
                        state.image_id, self.store, reason)
            state.failed.append((self.store, reason))
            with state.image_action() as image:
                import_state.edit_store_list(
                    image, import_state.IMPORTING, remove=[self.store])
                import_state.edit_store_list(
                    image, import_state.FAILED, add=[self.store])
            return
        state.written[self.store] = written
        with state.image_action() as image:
            import_state.edit_store_list(
                image, import_state.IMPORTING, remove=[self.store])
            if state.is_copy:
                image.add_location(written.url, written.metadata)
        state.repo.notify_upload(image)

    def revert(self, *args, **kwargs):
        state = self.state
        written = state.written.pop(self.store, None)
        if written is None:
            return
        try:
            backends.delete(written.url, self.store)
        except Exception:
            LOG.exception('Could not delete %s', written.url)
        if state.is_copy:
            try:
                with state.image_action(check_lock=False) as image:
                    image.locations = [loc for loc in image.locations
                                       if loc['url'] != written.url]
            except Exception:
                LOG.exception('Could not remove the location %s of image '
                              '%s', written.url, state.image_id)


class _Complete(import_state.Task):
    def execute(self):
        state = self.state
        if not state.written:
            raise exception.GlanceError(
                'The image could not be imported into any store: %s'
                % '; '.join('%s: %s' % f for f in state.failed))
        with state.image_action() as image:
            if not state.is_copy:
                info = state.info
                image.size = info.size
                image.checksum = info.checksum
                image.os_hash_algo = info.os_hash_algo
                image.os_hash_value = info.os_hash_value
                image.virtual_size = info.virtual_size
                for store in state.stores:
                    written = state.written.get(store)
                    if written is not None:
                        image.add_location(written.url, written.metadata)
                image.set_status('active')
            del image.extra_properties[import_state.LOCK]
            image.extra_properties.pop(import_state.IMPORT_HOST, None)
            image.extra_properties.pop(import_state.STAGE_HOST, None)
            import_state.edit_store_list(
                image, import_state.IMPORTING, remove=state.stores)
        if not state.is_copy:
            state.repo.notify_activate(image)
        staging.discard(state.image_id)


def plugin_kwargs(state):
    """What get_flow() of an import plugin receives."""
    return {
        'task_id': state.task_id,
        'task_type': TASK_TYPE,
        'image_repo': state.repo,
        'image_id': state.image_id,
        'import_req': state.import_req,
        'context': state.context,
        'admin_context': state.admin_context,
        'backend': [s for s in state.stores if s],
        'staging_path': state.staging_path,
        'progress': state.progress,
        'import_state': state,
    }


def plugin_flows(state):
    names = [n.strip() for n in CONF.image_import_opts.image_import_plugins
             if n.strip()]
    if not names:
        return []
    missing = []
    manager = named.NamedExtensionManager(
        PLUGIN_NAMESPACE, names=names, name_order=True,
        invoke_on_load=False,
        on_missing_entrypoints_callback=missing.extend,
        propagate_map_exceptions=True)
    if missing:
        raise exception.GlanceError(
            'Import plugin(s) %s named in image_import_plugins are not '
            'installed.' % ', '.join(sorted(missing)))
    kwargs = plugin_kwargs(state)
    flows = []
    for ext in manager.extensions:
        plugin = ext.plugin
        get_flow = getattr(plugin, 'get_flow', plugin)
        flows.append(get_flow(**kwargs))
    return flows


def build_flow(state):
    from glance.async_.flows import glance_download

    flow = linear_flow.Flow(TASK_TYPE)
    flow.add(import_state.ImageLock(state))
    if state.method == 'glance-direct':
        flow.add(_GlanceDirect(state))
    elif state.method == 'web-download':
        flow.add(_WebDownload(state))
    elif state.method == 'glance-download':
        flow.add(*glance_download.tasks(state))
    elif state.method == 'copy-image':
        flow.add(_CopyImage(state))
    else:
        raise exception.BadRequest('Unknown import method %s.'
                                   % state.method)
    if not state.is_copy:
        if (state.import_req.get('method') or {}).get('validation_data'):
            flow.add(_VerifyValidationData(state))
        for plugin_flow in plugin_flows(state):
            flow.add(plugin_flow)
        flow.add(_Inspect(state))
    for store in state.stores:
        flow.add(_ImportToStore(state, store))
    flow.add(_Complete(state))
    return flow


def _first_error(error):
    if isinstance(error, tf_exc.WrappedFailure):
        for failure in error:
            if failure.exception is not None:
                return failure.exception
    return error


def run(task, context):
    """Run the import of task; (result, message) or raise why it failed."""
    state = import_state.ImportState(task, context)
    try:
        flow = build_flow(state)
    except Exception:
        # Nothing ran, so no revert would: put the image back here.
        import_state.ImageLock(state).revert()
        raise
    engine = engines.load(flow, engine='serial', store={
        'image_id': state.image_id, 'task_id': state.task_id,
        'file_path': 'file://' + state.staging_path})
    try:
        engine.run()
    except Exception as e:
        raise _first_error(e) from None
    result = {'image_id': state.image_id}
    if state.written:
        result['stores'] = [s for s in state.stores
                            if s in state.written and s]
    message = ''
    if state.failed:
        result['failed_stores'] = [s for s, _ in state.failed]
        message = 'Not imported into %s.' % '; '.join(
            '%s (%s)' % f for f in state.failed)
    return result, message
