"""How pytest-xdist groups the tests of this tree (see conftest.py).

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

_GABBI = re.compile(
    r'test_gabbi\.py::test_\w+\[(?:start_|stop_)?(\w+):([^_\]]+)_')
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
