"""Where each option of the reference service stands in ours.

An operator's glance-api.conf and glance-image-import.conf were written
for the reference service. Every option its ``glance.api`` and
``glance.image_import`` namespaces declare (listed, names and groups only,
in data/reference_options.json) is, in ours, one of:

* the same: declared by ours under the same name, group and deprecated
  names, with the same meaning;
* different: declared by ours, read, but not to the same effect (the
  DIFFERENT table says how and why);
* not supported: declared here (UNSUPPORTED), so that a file naming it is
  read rather than refused, and logged once at start-up when the operator
  set it. Its value is never used.

Any reference option not declared by ours and not listed here is a bug,
which glance/tests/unit/test_option_inventory.py reports. The table in
doc/source/configuration.rst is written from this module by
tools/option_table.py.
"""

import json
import os

from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

REFERENCE_OPTIONS = os.path.join(os.path.dirname(__file__), 'data',
                                 'reference_options.json')

_NO_PROFILER = 'osprofiler tracing is not built'


def _unsupported(opt_class, name, reason, **kwargs):
    opt = opt_class(name, help='Accepted for compatibility with the '
                               'reference service; not supported: %s.'
                               % reason, **kwargs)
    return opt, reason


def _profiler(opt_class, name, **kwargs):
    return _unsupported(opt_class, name, _NO_PROFILER, **kwargs)


# group -> [(opt, reason)]: reference options ours reads but ignores.
UNSUPPORTED = {
    'DEFAULT': [
        _unsupported(cfg.BoolOpt, 'allow_anonymous_access',
                     'requests without a token are refused in the '
                     'keystone flavors; the no-Keystone flavor uses the '
                     '[noauth] identity'),
        _unsupported(cfg.IntOpt, 'max_request_id_length',
                     'the longest accepted X-Openstack-Request-Id is '
                     'fixed at 64, the reference default'),
        _unsupported(cfg.HostAddressOpt, 'pydev_worker_debug_host',
                     'remote debugging hooks are not built'),
        _unsupported(cfg.PortOpt, 'pydev_worker_debug_port',
                     'remote debugging hooks are not built'),
        _unsupported(cfg.StrOpt, 'metadata_encryption_key',
                     'location metadata is not encrypted (deprecated in '
                     'the reference too)', secret=True),
        _unsupported(cfg.StrOpt, 'digest_algorithm',
                     'deprecated in the reference; nothing is signed '
                     'with it'),
    ],
    'image_format': [
        _unsupported(cfg.StrOpt, 'vmdk_allowed_types',
                     "oslo.utils' VMDK safety check allows its default "
                     'subformats, monolithicSparse and streamOptimized, '
                     "the reference's default too"),
        _unsupported(cfg.StrOpt, 'gpt_safety_checks_nonfatal',
                     'GPT safety checks are not run'),
    ],
    'task': [
        _unsupported(cfg.StrOpt, 'task_executor',
                     'tasks always run on taskflow'),
        _unsupported(cfg.StrOpt, 'work_dir',
                     'imports work in the staging area (node_staging_uri '
                     'or the os_glance_staging_store)'),
    ],
    'taskflow_executor': [
        _unsupported(cfg.StrOpt, 'engine_mode',
                     'each import flow runs serially in one task thread; '
                     '[wsgi] task_pool_threads bounds the threads'),
        _unsupported(cfg.StrOpt, 'max_workers',
                     '[wsgi] task_pool_threads bounds the task threads'),
        _unsupported(cfg.StrOpt, 'conversion_format',
                     'the legacy task conversion is not built; use the '
                     'image_conversion import plugin'),
    ],
    'wsgi': [
        _unsupported(cfg.StrOpt, 'python_interpreter',
                     'no external Python process is started'),
    ],
    'image_import_opts': [
        _unsupported(cfg.StrOpt, 'max_parallel_stores',
                     'copies to several stores are made one after '
                     'another'),
    ],
    'profiler': [
        _profiler(cfg.BoolOpt, 'enabled',
                  deprecated_opts=[cfg.DeprecatedOpt('profiler_enabled',
                                                     group='DEFAULT')]),
        _profiler(cfg.BoolOpt, 'trace_sqlalchemy'),
        _profiler(cfg.BoolOpt, 'trace_requests'),
        _profiler(cfg.StrOpt, 'hmac_keys', secret=True),
        _profiler(cfg.StrOpt, 'connection_string'),
        _profiler(cfg.StrOpt, 'es_doc_type'),
        _profiler(cfg.StrOpt, 'es_scroll_time'),
        _profiler(cfg.StrOpt, 'es_scroll_size'),
        _profiler(cfg.StrOpt, 'socket_timeout'),
        _profiler(cfg.StrOpt, 'sentinel_service_name'),
        _profiler(cfg.BoolOpt, 'filter_error_trace'),
    ],
}

# (group, name) -> how ours differs from the reference, and why.
DIFFERENT = {
    ('DEFAULT', 'node_staging_uri'):
        'defaults to $state_path/staging (a directory of this service) '
        'rather than file:///tmp/staging/, which any local user may '
        'write to',
    ('DEFAULT', 'enabled_backends'):
        'also accepts the pairs in braces, {name: type, ...}',
    ('paste_deploy', 'flavor'):
        'the reference flavors are all there; until the image cache is '
        'built, the caching ones serve requests without it and log a '
        'warning',
}

# Options the operator cannot have meant to set: oslo.config sources
# other than defaults and our own set_default calls.
_SET_BY_OPERATOR = (cfg.Locations.user, cfg.Locations.command_line,
                    cfg.Locations.environment)

_registered_here = []


def reference_options():
    """The reference's options: dicts of namespace, group, name, ..."""
    with open(REFERENCE_OPTIONS) as f:
        return json.load(f)


def unsupported_names():
    return {(group, opt.dest): reason
            for group, entries in UNSUPPORTED.items()
            for opt, reason in entries}


def list_opts():
    """The unsupported options, for the sample configuration file."""
    return [(None if group == 'DEFAULT' else group,
             [opt for opt, _reason in entries])
            for group, entries in UNSUPPORTED.items()]


def register_opts(conf):
    """Declare each unsupported option that nothing else declared.

    Called after every other option is registered, so an option another
    module implements is never shadowed by the placeholder here.
    """
    for group, entries in UNSUPPORTED.items():
        group_name = None if group == 'DEFAULT' else group
        for opt, reason in entries:
            if _is_registered(conf, opt.dest, group_name):
                continue
            conf.register_opt(opt, group=group_name)
            _registered_here.append((conf, group, opt, reason))


def _is_registered(conf, name, group):
    try:
        conf._get_opt_info(name, group)
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return False
    return True


def set_unsupported(conf):
    """(group, name, reason) of each unsupported option the operator set."""
    found = []
    for registered_conf, group, opt, reason in _registered_here:
        if registered_conf is not conf:
            continue
        group_name = None if group == 'DEFAULT' else group
        location = conf.get_location(opt.dest, group_name)
        if location is not None and location.location in _SET_BY_OPERATOR:
            found.append((group, opt.dest, reason))
    return found


LEGACY_POLICY = (
    '[oslo_policy] enforce_new_defaults is false: the reference then ORs '
    'each image and member rule with its legacy default (rule:default, '
    'which allows anyone) and relies on ownership checks in its code; this '
    'service keeps enforcing the new defaults of those rules, and applies '
    'the legacy defaults only where they grant no more (tasks, cache, '
    'stores detail). Rules your policy file sets apply as written.')


def _legacy_policy(conf):
    try:
        return conf.oslo_policy.enforce_new_defaults is False
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return False


def log_unsupported(conf):
    """One warning per unsupported option the configuration sets.

    Called once at start-up, after the policy enforcer registered the
    [oslo_policy] options.
    """
    if _legacy_policy(conf):
        LOG.warning(LEGACY_POLICY)
    for group, name, reason in set_unsupported(conf):
        LOG.warning('Option [%(group)s] %(name)s is accepted but not '
                    'supported, and its value is ignored: %(reason)s.',
                    {'group': group, 'name': name, 'reason': reason})
