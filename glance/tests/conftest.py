"""pytest-xdist scheduling for the whole test tree.

This file must sit here (an "initial" conftest for both ``pytest
glance/tests`` and ``pytest glance/tests/functional``): the xdist
controller only sees hooks of conftests it loads before collection.

Plain ``-n N`` (``--dist load``) hands single tests to whichever worker is
free. That cannot work for gabbi: a YAML file is one conversation whose
first test starts a glance-api server (a gabbi fixture) and whose later
tests depend on the earlier ones. So tests are sent out in groups instead:

* a gabbi suite (one YAML file on one backend) is one group;
* a functional test module is one group per database backend, so its
  module-scoped server is started once per backend, not once per worker;
* ``@pytest.mark.xdist_group`` is honoured as with ``--dist loadgroup``;
* anything else (unit tests) is scheduled one test at a time.
"""

import re

import pytest

_GABBI = re.compile(r'::test_\w+\[(?:start_|stop_)?(\w+):([^_\]]+)_')
_BACKEND_PARAM = re.compile(r'\[(?:.*-)?(sqlite|postgresql|mysql)(?:-.*)?\]$')


def split_scope(nodeid):
    """The group a test id belongs to (see the module docstring)."""
    if nodeid.rfind('@') > nodeid.rfind(']'):
        return nodeid.split('@')[-1]
    if '/tests/functional/' in nodeid or nodeid.startswith('functional/'):
        match = _GABBI.search(nodeid)
        if match is not None:
            return 'gabbi:%s:%s' % match.groups()
        module = nodeid.split('::', 1)[0]
        match = _BACKEND_PARAM.search(nodeid)
        return '%s[%s]' % (module, match.group(1) if match else '')
    return nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue('dist') not in ('load', 'loadgroup', 'worksteal'):
        return None
    from xdist.scheduler import loadgroup

    class GroupScheduling(loadgroup.LoadGroupScheduling):
        def _split_scope(self, nodeid):
            return split_scope(nodeid)

    return GroupScheduling(config, log)


def _teach_gabbi_its_own_tests():
    """gabbi's pytest plugin takes every test whose id holds a colon for
    one of its YAML tests (and fails on it), so ids such as URLs in
    parametrized tests elsewhere break collection. Its name helper is
    told to see only the tests of test_gabbi.py."""
    try:
        from gabbi import pytester
    except ImportError:
        return
    own_name = pytester.get_cleanname

    def get_cleanname(item):
        if not item.nodeid.split('::', 1)[0].endswith('test_gabbi.py'):
            return ''
        return own_name(item)
    pytester.get_cleanname = get_cleanname


_teach_gabbi_its_own_tests()
