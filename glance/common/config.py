"""Configuration options of glance-api and how the program finds them.

Every option the service reads is declared here, with help text, so that
``oslo-config-generator --namespace glance.api`` writes the whole sample.
"""

import os
import sys

from oslo_concurrency import processutils
from oslo_config import cfg
from oslo_config import types
from oslo_db import options as db_options
from oslo_log import log as logging

from glance.common import config_types
from glance.i18n import _

CONF = cfg.CONF

IMPORT_METHODS = ('glance-direct', 'web-download', 'copy-image',
                  'glance-download')

DEFAULT_STATE_PATH = os.path.join(
    os.path.expanduser('~'), '.local', 'share', 'glance')

server_opts = [
    cfg.HostAddressOpt('bind_host', default='127.0.0.1',
                       help=_('Address the API server listens on.')),
    cfg.PortOpt('bind_port', default=9292,
                help=_('Port the API server listens on.')),
    cfg.IntOpt('workers', default=processutils.get_worker_count(), min=1,
               sample_default='<number of CPUs>',
               help=_('Number of API worker processes; defaults to the '
                      'number of CPUs, as in the reference service.')),
    cfg.IntOpt('threads', default=8, min=1,
               help=_('Threads per worker process; each serves one '
                      'request at a time.')),
    cfg.IntOpt('backlog', default=2048, min=1,
               help=_('Size of the listen queue.')),
    cfg.IntOpt('graceful_shutdown_timeout', default=60, min=0,
               help=_('On SIGTERM, seconds in-flight requests get to '
                      'finish before workers are stopped.')),
    cfg.IntOpt('client_socket_timeout', default=900, min=1,
               help=_('Seconds a worker process may go without reporting '
                      'to the master process before it is restarted. A '
                      'stalled request body is given up after '
                      'data_inactivity_timeout instead.')),
    # Slow and stalled clients (see doc/source/admin/slow-clients.rst).
    cfg.IntOpt('client_header_timeout', default=10, min=1,
               help=_('Seconds a client gets to send the request line and '
                      'header fields of a request, counted from the '
                      'connection (or, on a kept-alive connection, from '
                      'the first byte of the request); the connection is '
                      'closed after that. Heads are read without holding '
                      'a thread.')),
    cfg.IntOpt('data_threads', default=16, min=1,
               help=_('Threads per worker process that serve image data '
                      'requests (upload, stage, download), apart from the '
                      '"threads" that serve all other requests. When all '
                      'are busy a further data request is answered 503 '
                      'with a Retry-After header.')),
    cfg.IntOpt('data_inactivity_timeout', default=30, min=1,
               help=_('Seconds an image upload or stage may go without '
                      'receiving a single byte of its body before the '
                      'server gives it up (400) and puts the image back '
                      'in its previous state.')),
    cfg.IntOpt('max_header_line', default=16384, min=1,
               help=_('Longest HTTP header line accepted (bytes); '
                      'longer ones are refused with 400.')),
    cfg.StrOpt('state_path', default=DEFAULT_STATE_PATH,
               sample_default='~/.local/share/glance',
               help=_('Directory for local state: the default SQLite '
                      'database, file store and staging area.')),
    cfg.StrOpt('public_endpoint',
               help=_('Public URL of this service, used in the version '
                      'document instead of the request host.')),
]

paste_opts = [
    cfg.StrOpt('flavor', default='',
               help=_('Paste pipeline flavor, as in the reference '
                      'service: empty (identity taken from request '
                      'headers, no Keystone), "keystone" (tokens '
                      'validated by keystonemiddleware), "caching", '
                      '"cachemanagement", "keystone+caching" or '
                      '"keystone+cachemanagement".')),
    cfg.StrOpt('config_file',
               help=_('Paste deploy file; defaults to the '
                      'glance-api-paste.ini next to glance-api.conf, or '
                      'the one shipped with the package.')),
]

noauth_opts = [
    cfg.StrOpt('project_id', default='admin',
               help=_('Project of a request that carries no identity '
                      'headers (no-Keystone flavor only).')),
    cfg.StrOpt('user_id', default='admin',
               help=_('User of a request that carries no identity '
                      'headers (no-Keystone flavor only).')),
    config_types.ListOpt(
        'roles', default=['admin', 'member', 'reader'],
        help=_('Roles of a request that carries no identity '
               'headers (no-Keystone flavor only).')),
    cfg.BoolOpt('allow_non_loopback_bind', default=False,
                help=_('Allow the no-Keystone flavor, which trusts '
                       'identity headers as sent, to listen on an '
                       'address other than loopback. Only for a network '
                       'where every client is trusted.')),
]

api_opts = [
    cfg.IntOpt('limit_param_default', default=25, min=1,
               help=_('Page size of a list request without "limit".')),
    cfg.IntOpt('api_limit_max', default=1000, min=1,
               help=_('Largest page a list request may ask for.')),
    cfg.IntOpt('image_property_quota', default=128,
               help=_('Maximum extra properties per image; negative '
                      'means unlimited.')),
    cfg.IntOpt('image_tag_quota', default=128,
               help=_('Maximum tags per image; negative means '
                      'unlimited.')),
    cfg.IntOpt('image_member_quota', default=128,
               help=_('Maximum members per image; negative means '
                      'unlimited.')),
    cfg.IntOpt('image_location_quota', default=10,
               help=_('Maximum locations per image; negative means '
                      'unlimited.')),
    cfg.IntOpt('image_size_cap', default=1099511627776, min=1,
               max=9223372036854775808,
               help=_('Largest image, in bytes, that may be uploaded.')),
    cfg.StrOpt('user_storage_quota', default='0',
               help=_('Total image data a project may keep, e.g. 5GB '
                      'or 1099511627776 (bytes); 0 means unlimited. '
                      'Ignored when use_keystone_limits is true.')),
    cfg.BoolOpt('use_keystone_limits', default=False,
                help=_('Enforce the per-project limits registered in '
                       'Keystone (unified limits: image_size_total, '
                       'image_stage_total, image_count_total, '
                       'image_count_uploading) through oslo.limit, '
                       'configured in [oslo_limit]. Register the limits '
                       'first: a resource with no limit counts as 0 and '
                       'refuses everything. When true, '
                       'user_storage_quota is ignored.')),
    cfg.StrOpt('hashing_algorithm', default='sha512',
               help=_('hashlib algorithm for os_hash_value.')),
    cfg.BoolOpt('show_image_direct_url', default=False,
                help=_('Show the direct_url of the first location in '
                       'image responses.')),
    cfg.BoolOpt('show_multiple_locations', default=False,
                deprecated_for_removal=True,
                deprecated_reason=_('Exposes store URLs (OSSN-0065); use '
                                    'the location API instead.'),
                help=_('Show and allow changing the locations list.')),
    config_types.ListOpt(
        'enabled_import_methods',
        item_type=types.String(quotes=True, choices=IMPORT_METHODS),
        default=['glance-direct', 'web-download', 'copy-image'],
        help=_('Interoperable import methods offered to users.')),
    cfg.StrOpt('node_staging_uri', default='',
               sample_default='file://$state_path/staging',
               help=_('file:// URI of the staging area for imports in '
                      'single-store mode; empty means '
                      '$state_path/staging.')),
    cfg.StrOpt('property_protection_file',
               help=_('File of property protection rules; unset means '
                      'no property protections.')),
    cfg.StrOpt('property_protection_rule_format', default='roles',
               choices=('roles', 'policies'),
               help=_('Whether property protection sections list roles '
                      'or name policy rules.')),
    cfg.StrOpt('schema_image_file', default='',
               help=_('JSON file of extra image schema properties to '
                      'merge into the image schema; empty means '
                      'schema-image.json next to the configuration '
                      'file, if there is one.')),
    cfg.BoolOpt('delayed_delete', default=False,
                help=_('Mark deleted images pending_delete and leave '
                       'their data for glance-scrubber.')),
    cfg.IntOpt('scrub_time', default=0, min=0,
               help=_('Seconds a pending_delete image waits before the '
                      'scrubber removes its data.')),
    cfg.BoolOpt('do_secure_hash', default=True,
                help=_('Compute the hashes of an image added through the '
                       'location API without validation data, in the '
                       'background, from its data.')),
    cfg.IntOpt('http_retries', default=3, min=0,
               help=_("Attempts at reading an added location's data for "
                      'background hashing.')),
]

image_format_opts = [
    config_types.ListOpt(
        'container_formats',
        default=['ami', 'ari', 'aki', 'bare', 'ovf', 'ova',
                 'docker', 'compressed'],
        deprecated_opts=[cfg.DeprecatedOpt('container_formats',
                                           group='DEFAULT')],
        help=_('Container formats users may give.')),
    config_types.ListOpt(
        'disk_formats',
        default=['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw',
                 'qcow2', 'vdi', 'iso', 'ploop'],
        deprecated_opts=[cfg.DeprecatedOpt('disk_formats', group='DEFAULT')],
        help=_('Disk formats users may give.')),
    cfg.BoolOpt('require_image_format_match', default=True,
                help=_('Refuse image data whose content does not match '
                       'the declared disk_format.')),
]

wsgi_opts = [
    cfg.IntOpt('task_pool_threads', default=16, min=1,
               deprecated_opts=[cfg.DeprecatedOpt('task_pool_threads',
                                                  group='DEFAULT')],
               help=_('Threads that run import tasks in each API '
                      'worker.')),
]

database_sqlite_opts = [
    cfg.IntOpt('sqlite_busy_timeout', default=30, min=0,
               help=_('Seconds a SQLite connection waits for a lock '
                      'before reporting "database is locked".')),
    cfg.BoolOpt('auto_create_schema', default=True,
                help=_('Create or upgrade the schema at start-up when '
                       'the database is SQLite; other databases are '
                       'managed with glance-manage db sync.')),
]


metadef_opts = [
    cfg.StrOpt('metadata_source_path',
               sample_default='/etc/glance/metadefs/',
               help=_('Directory of metadata definition files (JSON, one '
                      'namespace a file) that "glance-manage db '
                      'load_metadefs" loads and "export_metadefs" writes '
                      'when no path is given. Unset: /etc/glance/metadefs/ '
                      'if it exists, else the definitions installed with '
                      'Glance.')),
]


def _group_opts():
    return [
        (None, server_opts + api_opts + metadef_opts),
        ('paste_deploy', paste_opts),
        ('noauth', noauth_opts),
        ('image_format', image_format_opts),
        ('wsgi', wsgi_opts),
        ('database', database_sqlite_opts),
    ]


def register_opts(conf=CONF):
    for group, opts in _group_opts():
        conf.register_opts(opts, group=group)
    from glance.async_ import opts as import_opts
    import_opts.register_opts(conf)
    from glance.cmd import scrubber
    from glance.store import backends
    backends.register_opts(conf)
    conf.register_opts(scrubber.scrubber_opts)
    from glance.notifier import sender as notification_sender
    notification_sender.register_opts(conf)
    from glance.image_cache import opts as cache_opts
    cache_opts.register_opts(conf)
    db_options.set_defaults(conf)
    # Last: placeholders for reference options nothing above declared.
    from glance.common import option_inventory
    option_inventory.register_opts(conf)


def list_opts():
    """Options for oslo-config-generator (namespace glance.api)."""
    from glance.cmd import scrubber
    from glance.store import backends
    opts = [(group, list(opts)) for group, opts in _group_opts()]
    from glance.notifier import sender as notification_sender
    from glance.image_cache import opts as cache_opts
    opts[0][1].extend(backends.store_opts + scrubber.scrubber_opts +
                      notification_sender.list_opts() +
                      cache_opts.cache_opts)
    from glance.async_ import opts as import_opts
    for group, group_opts in import_opts.list_opts():
        if group is None:
            opts[0][1].extend(group_opts)
        else:
            opts.append((group, group_opts))
    from glance.common import option_inventory
    for group, group_opts in option_inventory.list_opts():
        if group is None:
            opts[0][1].extend(group_opts)
        else:
            opts.append((group, group_opts))
    return opts


def set_config_defaults():
    """Defaults of library options that differ for this service."""
    from oslo_middleware import cors
    cors.set_defaults(
        allow_headers=['Content-MD5', 'X-Image-Meta-Checksum',
                       'X-Storage-Token', 'Accept-Encoding',
                       'X-Auth-Token', 'X-Identity-Status', 'X-Roles',
                       'X-Service-Catalog', 'X-User-Id', 'X-Tenant-Id',
                       'X-OpenStack-Request-ID', 'X-Image-Meta-Store',
                       'X-OpenStack-Image-Size'],
        expose_headers=['X-Image-Meta-Checksum', 'X-Auth-Token',
                        'X-Subject-Token', 'X-Service-Token',
                        'X-OpenStack-Request-ID',
                        'OpenStack-image-import-methods',
                        'OpenStack-image-store-ids'],
        allow_methods=['GET', 'PUT', 'POST', 'DELETE', 'PATCH'])


def default_sqlite_url(conf=CONF):
    return 'sqlite:///' + os.path.join(conf.state_path, 'glance.sqlite')


def parse_args(argv=None, conf=CONF, default_config_files=None,
               prog='glance-api'):
    """Register every option, then read the command line and files.

    Without --config-file, oslo.config looks for glance-api.conf (and, as
    an extra default file, glance-image-import.conf) in ~/.glance/, ~/,
    /etc/glance/ and /etc/. With --config-file, a glance-image-import.conf
    next to the last configuration file is read too (after it), unless
    it was named already.
    """
    register_opts(conf)
    logging.register_options(conf)
    if default_config_files is None:
        default_config_files = cfg.find_config_files('glance', 'glance-api')
        default_config_files += [
            path for path in cfg.find_config_files('glance',
                                                   'glance-image-import')
            if path.endswith('glance-image-import.conf')]
    from glance import version

    def parse(args):
        conf(args, project='glance', prog=prog,
             version=version.version_string(),
             default_config_files=default_config_files)
    parse(argv)
    named = [os.path.abspath(f) for f in conf.config_file or []]
    if named:
        extra = os.path.join(os.path.dirname(named[-1]),
                             'glance-image-import.conf')
        if os.path.exists(extra) and os.path.abspath(extra) not in named:
            parse(list(argv if argv is not None else sys.argv[1:]) +
                  ['--config-file', extra])
    conf.set_default('connection', default_sqlite_url(conf),
                     group='database')
    os.makedirs(conf.state_path, exist_ok=True)


def check_values(conf=CONF):
    """Read every registered option once, so that a value the files give
    wrongly stops the start with one line, not a 500 on the first request
    that reads it (oslo.config checks a value when it is first read)."""
    def read_all(namespace):
        for name in list(namespace):
            try:
                value = namespace[name]
            except (cfg.ConfigFileValueError, cfg.ConfigSourceValueError,
                    ValueError) as e:
                raise RuntimeError('invalid configuration: %s' % e)
            if isinstance(value, cfg.ConfigOpts.GroupAttr):
                read_all(value)
    read_all(conf)


def config_dir(conf=CONF):
    """Directory of the first configuration file, if any."""
    files = conf.config_file or []
    if files:
        return os.path.dirname(os.path.abspath(files[-1]))
    if conf.config_dir:
        # --config-dir may be repeated: oslo.config gives a list.
        dirs = conf.config_dir
        if isinstance(dirs, (list, tuple)):
            dirs = dirs[-1]
        return os.path.abspath(os.path.expanduser(dirs))
    return None
