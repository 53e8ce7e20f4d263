"""pytest-xdist scheduling for the whole test tree.

This file must sit here (an "initial" conftest for both ``pytest
glance/tests`` and ``pytest glance/tests/functional``): the xdist
controller only sees hooks of conftests it loads before collection.
Tests are sent to workers in groups (a gabbi YAML file on one backend, a
functional module on one backend), see xdist_groups.py.
"""

import pytest


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue('dist') not in ('load', 'loadgroup', 'worksteal'):
        return None
    from xdist.scheduler import loadgroup

    from glance.tests import xdist_groups

    class GroupScheduling(loadgroup.LoadGroupScheduling):
        def _split_scope(self, nodeid):
            return xdist_groups.split_scope(nodeid)

    return GroupScheduling(config, log)


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'tempest: OpenStack Tempest image API tests against the '
        'real server (glance/tests/functional/test_tempest.py)')


def pytest_terminal_summary(terminalreporter):
    """Lines that tests leave as ``*-summary`` user properties (the
    Tempest counts), printed at the end of the run, also under xdist."""
    seen = set()
    for outcome in ('passed', 'failed'):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, 'user_properties', ()):
                if name.endswith('-summary') and value not in seen:
                    seen.add(value)
                    terminalreporter.write_line(value)
