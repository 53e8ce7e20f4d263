"""glance_store set-up and the few questions the API asks of the stores.

Both forms of configuration work: the single-store form ([glance_store]
stores / default_store) and the multi-store form ([DEFAULT]
enabled_backends = name:type,... with [glance_store] default_backend and
one section per store). In multi-store mode the staging and tasks areas are
glance_store's reserved file stores os_glance_staging_store and
os_glance_tasks_store.
"""

import contextlib
import os
import types
import urllib.parse

import glance_store
from glance_store import backend as single_backend
from glance_store import exceptions as store_exc
from glance_store import multi_backend
from oslo_config import cfg
from stevedore import named

from glance.common import config_types
from glance.common import exception
from glance.i18n import _

CONF = cfg.CONF

STAGING_STORE = 'os_glance_staging_store'
TASKS_STORE = 'os_glance_tasks_store'
RESERVED_STORES = {STAGING_STORE: 'file', TASKS_STORE: 'file'}

store_opts = [
    config_types.DictOpt(
        'enabled_backends',
        help=_('Stores to enable, as name:type pairs, e.g. '
               'fast:rbd,cheap:file. Setting it turns on multiple '
               'stores; each store has a section of its own and '
               '[glance_store] default_backend names the default.')),
    cfg.IntOpt('data_chunk_size', default=4 * 1024 * 1024, min=4096,
               help=_('Bytes read from a request or written to a store at '
                      'a time when moving image data.')),
]


def register_opts(conf=CONF):
    conf.register_opts(store_opts)


def multistore():
    return bool(CONF.enabled_backends)


def setup(conf=CONF):
    """Register glance_store's options, with our defaults, and load it.

    Only the drivers the configuration names are imported: glance_store
    would import every installed driver to collect its options, and one
    whose dependency is missing (cinder without os-brick) logs an ERROR
    at every start, although nobody asked for it.
    """
    register_opts(conf)
    state = conf.state_path
    if multistore():
        drivers = set(user_store_types().values()) | set(
            RESERVED_STORES.values())
        with only_drivers(drivers):
            multi_backend.register_store_opts(
                conf, reserved_stores=RESERVED_STORES)
        for name, sub in ((STAGING_STORE, 'staging'), (TASKS_STORE, 'tasks')):
            _default_datadir(conf, name, os.path.join(state, sub))
        for name, kind in user_store_types().items():
            if kind == 'file':
                _default_datadir(conf, name,
                                 os.path.join(state, 'images', name))
        _make_file_dirs(conf)
        multi_backend.create_multi_stores(conf,
                                          reserved_stores=RESERVED_STORES)
        multi_backend.verify_store()
    else:
        # First glance_store's own options, to learn which stores are
        # named; then the options of those drivers.
        with only_drivers(()):
            glance_store.register_opts(conf)
        conf.set_default('stores', ['file', 'http'], group='glance_store')
        with only_drivers(conf.glance_store.stores):
            glance_store.register_opts(conf)
        conf.set_default('filesystem_store_datadir',
                         os.path.join(state, 'images'), group='glance_store')
        _make_file_dirs(conf)
        glance_store.create_stores(conf)
        glance_store.verify_default_store()


class _NamedDrivers(named.NamedExtensionManager):
    names = ()

    def __init__(self, namespace, **kwargs):
        super().__init__(namespace, names=sorted(self.names), **kwargs)


@contextlib.contextmanager
def only_drivers(names):
    """Within, glance_store's look-ups of every installed driver (to
    register their options) see only the named drivers.

    glance_store lists drivers with stevedore's ExtensionManager; a
    NamedExtensionManager over the same namespace stands in for it.
    """
    manager = type('NamedDrivers', (_NamedDrivers,),
                   {'names': tuple(names)})
    stand_in = types.SimpleNamespace(ExtensionManager=manager)
    modules = (single_backend, multi_backend)
    saved = [module.extension for module in modules]
    for module in modules:
        module.extension = stand_in
    try:
        yield
    finally:
        for module, original in zip(modules, saved):
            module.extension = original


def _default_datadir(conf, group, path):
    """Give a file store its own directory under state_path, unless set.

    glance_store resets the defaults of each store's section (to fall back
    on [backend_defaults]), and two file stores sharing one directory would
    overwrite each other's files, so an unset directory gets an override.
    """
    where = conf.get_location('filesystem_store_datadir', group)
    if where is None or where.location in (cfg.Locations.opt_default,
                                           cfg.Locations.set_default):
        conf.set_override('filesystem_store_datadir', path, group=group)


def _make_file_dirs(conf):
    groups = ['glance_store']
    if multistore():
        groups = [name for name, kind in all_store_types().items()
                  if kind == 'file']
    for group in groups:
        try:
            path = conf[group].filesystem_store_datadir
        except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
            continue
        if path:
            os.makedirs(path, exist_ok=True)


def all_store_types():
    types = user_store_types()
    types.update(RESERVED_STORES)
    return types


def user_store_types():
    # glance_store adds its reserved stores to enabled_backends itself.
    return {name: kind for name, kind in (CONF.enabled_backends or {}).items()
            if name not in RESERVED_STORES}


def store_ids():
    """Stores users may name (multi-store), the default first."""
    ids = list(user_store_types())
    default = CONF.glance_store.default_backend
    if default in ids:
        ids.remove(default)
        ids.insert(0, default)
    return ids


def default_store_id():
    return CONF.glance_store.default_backend if multistore() else None


def check_store_id(store_id, error=exception.BadRequest):
    """The store a user named, refused with error if unknown."""
    if not multistore():
        if store_id:
            raise error('Multiple stores are not enabled; X-Image-Meta-'
                        'Store cannot be used.')
        return None
    if store_id is None:
        return default_store_id()
    if store_id not in user_store_types():
        raise error('Unknown store %s.' % store_id)
    return store_id


def get_store(store_id=None):
    """The glance_store driver object for a store (None = default)."""
    if multistore():
        return multi_backend.get_store_from_store_identifier(
            store_id or default_store_id())
    return glance_store.get_store_from_scheme(
        CONF.glance_store.default_store)


def store_type(store_id=None):
    if multistore():
        return all_store_types()[store_id or default_store_id()]
    return CONF.glance_store.default_store


def weight(store_id):
    if not store_id or not multistore():
        return 0
    try:
        return multi_backend.get_store_weight(store_id)
    except store_exc.UnknownScheme:
        return 0


def file_path(url):
    """The local path of a file:// location, or None."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != 'file':
        return None
    return urllib.parse.unquote(parsed.path)


def read(url, store_id=None, offset=0, length=None):
    """(iterator of chunks, size) from any store."""
    try:
        if multistore():
            return multi_backend.get(url, store_id, offset=offset,
                                     chunk_size=length)
        return glance_store.get_from_backend(url, offset=offset,
                                             chunk_size=length)
    except store_exc.NotFound:
        raise exception.NotFound('Image data not found in store.')


def size_of(url, store_id=None):
    """Size in bytes of the data at a location, as its store reports it."""
    if multistore():
        return multi_backend.get_size_from_uri_and_backend(url, store_id)
    return glance_store.get_size_from_backend(url)


def delete(url, store_id=None):
    """Delete data at a location; gone already counts as deleted."""
    try:
        if multistore():
            multi_backend.delete(url, store_id)
        else:
            glance_store.delete_from_backend(url)
    except (store_exc.NotFound, store_exc.StoreDeleteNotSupported,
            store_exc.UnknownScheme):
        pass


def describe(detail=False):
    """The /v2/info/stores entries."""
    default = default_store_id()
    entries = []
    for store_id in store_ids():
        group = CONF[store_id]
        entry = {'id': store_id,
                 'description': getattr(group, 'store_description', '') or
                 ''}
        if store_id == default:
            entry['default'] = 'true'
        driver = get_store(store_id)
        if driver.is_capable(glance_store.capabilities.BitMasks.READ_ACCESS)\
                and not driver.is_capable(
                    glance_store.capabilities.BitMasks.WRITE_ACCESS):
            entry['read-only'] = 'true'
        if detail:
            entry['type'] = user_store_types()[store_id]
            entry['weight'] = weight(store_id)
            entry['properties'] = _properties(store_id)
        entries.append(entry)
    return entries


def _properties(store_id):
    if user_store_types()[store_id] != 'file':
        return {}
    driver = get_store(store_id)
    return {'data_dir': getattr(driver, 'datadir', None),
            'chunk_size': getattr(driver, 'chunk_size', None),
            'thin_provisioning': getattr(driver, 'thin_provisioning', False)}
