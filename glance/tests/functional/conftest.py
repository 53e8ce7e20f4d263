"""Fixtures of the functional tests: real glance-api processes.

api_server           module-scoped, SQLite
api_server_each_db   module-scoped, parametrized over sqlite, postgresql
                     and mysql (skipped when a database server is not
                     configured or unreachable, see server.py)

A module can give its server extra options with a module-level
``SERVER_OPTIONS = {section: {option: value}}``. When a test that uses one
of these servers fails, the server's log is attached to the report.
"""

import pytest

from glance.tests.functional import server as server_lib
from glance.tests import xdist_groups


def _options(request):
    return getattr(request.module, 'SERVER_OPTIONS', None)


@pytest.fixture(scope='module')
def api_server(request):
    server = server_lib.start_or_skip('sqlite', options=_options(request))
    yield server
    server.cleanup_in_background()


@pytest.fixture(scope='module', params=list(server_lib.BACKENDS))
def api_server_each_db(request):
    server = server_lib.start_or_skip(request.param,
                                      options=_options(request))
    yield server
    server.cleanup_in_background()


def pytest_sessionfinish(session):
    """Servers stopped in the background are gone before pytest ends."""
    server_lib.wait_for_cleanups()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for value in getattr(item, 'funcargs', {}).values():
        if isinstance(value, server_lib.Server) and value.log_path:
            text = value.log_text()
            report.sections.append(
                ('glance-api log (%s)' % value.backend, text[-20000:]))


def pytest_collection_modifyitems(config, items):
    """Tempest first; interleave the gabbi suites of the three backends,
    and group each suite for ``--dist loadgroup`` too.

    Collected, the suites come backend after backend. Interleaved
    (versions on sqlite, postgresql, mysql, then the next file), a worker
    seldom runs two suites of one backend in a row, so it need not wait
    for the previous server of that backend to free the port (servers
    stop in the background).
    """
    # The Tempest run is by far the longest group: start it first, so
    # that it runs beside the others rather than after them.
    items.sort(key=lambda item: item.get_closest_marker('tempest') is None)
    suites = {}
    order = []
    first = None
    for index, item in enumerate(items):
        if 'test_gabbi.py' not in item.nodeid:
            continue
        scope = xdist_groups.split_scope(item.nodeid)
        item.add_marker(pytest.mark.xdist_group(scope))
        if scope not in suites:
            suites[scope] = []
            order.append(scope)
        suites[scope].append(item)
        first = index if first is None else first
    if first is None:
        return
    backends = [s.split(':')[1] for s in order]
    sizes = {}
    for scope in order:
        name = scope.split(':', 2)[2]
        sizes[name] = sizes.get(name, 0) + len(suites[scope])
    # Longest files first: the workers end at about the same time.
    files = sorted(sizes, key=lambda name: (-sizes[name], name))
    ordered = []
    for name in files:
        for backend in dict.fromkeys(backends):
            ordered.extend(suites.get('gabbi:%s:%s' % (backend, name), []))
    gabbi = set(map(id, ordered))
    rest = [item for item in items if id(item) not in gabbi]
    items[:] = rest[:first] + ordered + rest[first:]
