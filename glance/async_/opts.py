"""Options of the import pipeline (glance-image-import.conf and tasks).

glance-api reads glance-image-import.conf as an extra configuration file
(see glance.common.config.parse_args); these options may as well be put
in glance-api.conf. ``oslo-config-generator --namespace glance.api`` lists
them with the rest, ``--namespace glance.image_import`` alone.
"""

from oslo_config import cfg
from oslo_config import types

from glance.common import config_types
from glance.i18n import _

CONF = cfg.CONF

_PORT = types.Integer(min=1, max=65535)

import_opts = [
    config_types.ListOpt(
        'image_import_plugins', default=[],
        help=_('Plugins run, in this order, on the data of every '
               'import except copy-image: names of entry points '
               'in the glance.image_import.plugins namespace. '
               'Bundled: no_op, inject_image_metadata, '
               'image_conversion, image_decompression.')),
]

filtering_opts = [
    config_types.ListOpt(
        'allowed_schemes', default=['http', 'https'],
        help=_('URI schemes web-download may fetch from. When '
               'set, disallowed_schemes is ignored.')),
    config_types.ListOpt(
        'disallowed_schemes', default=[],
        help=_('URI schemes web-download refuses (used only when '
               'allowed_schemes is empty).')),
    config_types.ListOpt(
        'allowed_hosts', default=[],
        help=_('Hosts web-download may fetch from: host names, IP '
               'addresses or CIDRs (e.g. 10.1.0.0/16). When set, '
               'disallowed_hosts is ignored, and a listed host is '
               'allowed even if it resolves to a special-purpose '
               'address.')),
    config_types.ListOpt(
        'disallowed_hosts', default=[],
        help=_('Hosts web-download refuses: host names, IP '
               'addresses or CIDRs (used only when allowed_hosts '
               'is empty).')),
    config_types.ListOpt(
        'allowed_ports', default=[80, 443], item_type=_PORT,
        help=_('Ports web-download may connect to, when the URI '
               'names a port. When set, disallowed_ports is '
               'ignored; empty means any port.')),
    config_types.ListOpt(
        'disallowed_ports', default=[], item_type=_PORT,
        help=_('Ports web-download refuses (used only when '
               'allowed_ports is empty).')),
    cfg.BoolOpt('disallow_special_addresses', default=True,
                help=_('Resolve the host of a web-download URI (and of '
                       'every redirect) and refuse it when any of its '
                       'addresses is loopback, private, link-local, '
                       'multicast, reserved or otherwise not globally '
                       'routable (IPv4 and IPv6). Hosts and addresses '
                       'listed in allowed_hosts are exempt. The fetch '
                       'connects to the address that was checked.')),
    cfg.IntOpt('connect_timeout', default=10, min=1,
               help=_('Seconds web-download waits for a connection.')),
    cfg.IntOpt('read_timeout', default=60, min=1,
               help=_('Seconds web-download waits for data on an open '
                      'connection before giving up.')),
    cfg.IntOpt('max_redirects', default=5, min=0,
               help=_('Redirects web-download follows; each target is '
                      'checked like the original URI.')),
]

inject_opts = [
    config_types.ListOpt(
        'ignore_user_roles', default=['admin'],
        help=_('The inject_image_metadata plugin leaves the images '
               'of users with any of these roles alone.')),
    config_types.DictOpt(
        'inject', default={},
        help=_('Properties the inject_image_metadata plugin sets '
               'on imported images, as key:value pairs separated '
               'by commas. Protect them with property '
               'protections so users cannot change them later.')),
]

conversion_opts = [
    cfg.StrOpt('output_format', default='raw',
               choices=(('raw', _('Raw disk image.')),
                        ('qcow2', _('QEMU copy-on-write image.')),
                        ('vmdk', _('VMware disk image.'))),
               help=_('Disk format the image_conversion plugin converts '
                      'imported images to (with qemu-img).')),
]

glance_download_opts = [
    config_types.ListOpt(
        'extra_properties',
        default=['hw_', 'trait:', 'os_distro', 'os_secure_boot',
                 'os_type'],
        help=_('Properties glance-download copies from the remote '
               'image: exact names, or prefixes when the entry '
               'ends with "_" or ":".')),
]

task_opts = [
    cfg.IntOpt('task_time_to_live', default=48, min=1,
               deprecated_opts=[cfg.DeprecatedOpt('task_time_to_live',
                                                  group='DEFAULT')],
               help=_('Hours a finished task is kept (its expires_at).')),
]

service_opts = [
    cfg.StrOpt('worker_self_reference_url',
               help=_('URL at which other API nodes reach this one. Set '
                      'it when several nodes have staging areas of their '
                      'own: a glance-direct import arriving at another '
                      'node is then sent on to the node holding the staged '
                      'data. Falls back to public_endpoint.')),
]

# Options of glance-image-import.conf, by group.
IMPORT_GROUPS = [
    ('image_import_opts', import_opts),
    ('import_filtering_opts', filtering_opts),
    ('inject_metadata_properties', inject_opts),
    ('image_conversion', conversion_opts),
    ('glance_download_properties', glance_download_opts),
]

# Options of glance-api.conf that belong to tasks and imports.
API_GROUPS = [
    ('task', task_opts),
    (None, service_opts),
]


def register_opts(conf=CONF):
    for group, opts in IMPORT_GROUPS + API_GROUPS:
        conf.register_opts(opts, group=group)


def list_opts():
    """All of them (part of namespace glance.api)."""
    return [(group, list(opts)) for group, opts in IMPORT_GROUPS + API_GROUPS]


def list_image_import_opts():
    """Namespace glance.image_import: glance-image-import.conf alone."""
    return [(group, list(opts)) for group, opts in IMPORT_GROUPS]
