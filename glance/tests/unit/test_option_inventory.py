"""Every option of the reference service is read by ours.

glance/common/data/reference_options.json lists the options of the
reference's glance.api and glance.image_import namespaces (written by
tools/reference_options.py from a checkout of it). Each must be declared
by ours, under its group and with its deprecated names, or be listed as
not supported in glance.common.option_inventory.
"""

import textwrap

from oslo_config import cfg
import pytest

from glance.common import config
from glance.common import option_inventory

REFERENCE = option_inventory.reference_options()


def _fresh_conf(tmp_path=None, text=None):
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    files = []
    if text is not None:
        path = tmp_path / 'glance-api.conf'
        path.write_text(textwrap.dedent(text))
        files = [str(path)]
    conf([], project='glance', default_config_files=files)
    return conf


def _declared(conf, group, name):
    group = None if group == 'DEFAULT' else group
    try:
        return conf._get_opt_info(name, group)['opt']
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError):
        return None


def _ids(rows):
    return ['[%s] %s' % (r['group'], r['name']) for r in rows]


def test_reference_list_is_not_empty():
    # Guards the test below against an empty or truncated data file.
    names = {(r['group'], r['name']) for r in REFERENCE}
    assert len(REFERENCE) > 60
    assert ('DEFAULT', 'enabled_import_methods') in names
    assert ('import_filtering_opts', 'allowed_hosts') in names


@pytest.mark.parametrize('row', REFERENCE, ids=_ids(REFERENCE))
def test_reference_option_is_declared(row):
    conf = _fresh_conf()
    opt = _declared(conf, row['group'], row['name'])
    assert opt is not None, (
        'reference option [%(group)s] %(name)s is neither declared nor '
        'listed as not supported in glance.common.option_inventory' % row)


@pytest.mark.parametrize('row', REFERENCE, ids=_ids(REFERENCE))
def test_reference_deprecated_names_are_read(row):
    conf = _fresh_conf()
    opt = _declared(conf, row['group'], row['name'])
    ours = {'%s/%s' % (d.group or 'DEFAULT', d.name or opt.name)
            for d in opt.deprecated_opts}
    assert set(row['deprecated']) <= ours


def test_unsupported_entries_are_reference_options():
    reference = {(r['group'], r['name']) for r in REFERENCE}
    assert set(option_inventory.unsupported_names()) <= reference


def test_no_option_is_both_unsupported_and_implemented():
    implemented = set()
    inventory = {id(opt) for _g, opts in option_inventory.list_opts()
                 for opt in opts}
    for group, opts in config.list_opts():
        for opt in opts:
            if id(opt) not in inventory:
                implemented.add((group or 'DEFAULT', opt.dest))
    both = implemented & set(option_inventory.unsupported_names())
    assert not both, ('implemented now: remove from UNSUPPORTED: %s'
                      % sorted(both))


def test_different_entries_are_declared_options():
    conf = _fresh_conf()
    for group, name in option_inventory.DIFFERENT:
        assert _declared(conf, group, name) is not None


def test_unsupported_option_set_in_a_file_is_read_and_reported(tmp_path):
    conf = _fresh_conf(tmp_path, """
        [DEFAULT]
        pydev_worker_debug_host = 127.0.0.1
        pydev_worker_debug_port = 5678
        profiler_enabled = true
        [taskflow_executor]
        engine_mode = serial
        """)
    assert conf.pydev_worker_debug_host == '127.0.0.1'
    assert conf.profiler.enabled is True
    reported = {(g, n) for g, n, _r in
                option_inventory.set_unsupported(conf)}
    assert reported == {('DEFAULT', 'pydev_worker_debug_host'),
                        ('DEFAULT', 'pydev_worker_debug_port'),
                        ('profiler', 'enabled'),
                        ('taskflow_executor', 'engine_mode')}


def test_unsupported_options_left_alone_are_not_reported():
    assert option_inventory.set_unsupported(_fresh_conf()) == []


def test_log_unsupported_warns_once_per_option(tmp_path, caplog):
    conf = _fresh_conf(tmp_path, """
        [DEFAULT]
        pydev_worker_debug_port = 5678
        """)
    caplog.set_level('WARNING')
    option_inventory.log_unsupported(conf)
    lines = [r.getMessage() for r in caplog.records
             if 'accepted but not supported' in r.getMessage()]
    assert len(lines) == 1
    assert '[DEFAULT] pydev_worker_debug_port' in lines[0]


def test_deprecated_names_of_the_reference_are_read(tmp_path):
    conf = _fresh_conf(tmp_path, """
        [DEFAULT]
        disk_formats = raw, qcow2
        container_formats = [bare]
        task_time_to_live = 5
        task_pool_threads = 3
        """)
    assert conf.image_format.disk_formats == ['raw', 'qcow2']
    assert conf.image_format.container_formats == ['bare']
    assert conf.task.task_time_to_live == 5
    assert conf.wsgi.task_pool_threads == 3


def test_wsgi_group_of_the_reference(tmp_path):
    conf = _fresh_conf(tmp_path, """
        [wsgi]
        task_pool_threads = 7
        """)
    assert conf.wsgi.task_pool_threads == 7


def test_documentation_table_is_current():
    import os
    import runpy
    root = os.path.join(os.path.dirname(__file__), '..', '..', '..')
    tool = runpy.run_path(os.path.join(root, 'tools', 'option_table.py'))
    with open(os.path.join(root, 'doc', 'source',
                           'reference-options.inc')) as f:
        committed = f.read()
    assert committed == tool['render'](), (
        'run: python tools/option_table.py > '
        'doc/source/reference-options.inc')
