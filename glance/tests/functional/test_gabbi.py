"""Declarative HTTP tests: the YAML files in gabbits/, on every backend.

Each YAML file is a conversation with a real glance-api process that its
``GlanceServer`` fixture starts fresh (see gabbi_fixtures.py). Every file
runs three times, once per database backend, as the tests ``test_sqlite``,
``test_postgresql`` and ``test_mysql``; the tests of a backend whose
database server is not available are skipped (see server.py).

The ports are picked when this module is imported, because gabbi builds
its tests with a fixed host and port; under pytest-xdist each worker
imports the module and picks from its own range.
"""

import os

from gabbi import driver

from glance.tests.functional import gabbi_fixtures
from glance.tests.functional import server as server_lib

TESTS_DIR = os.path.join(os.path.dirname(__file__), 'gabbits')
HOST = '127.0.0.1'
PORTS = {backend: server_lib.free_port() for backend in server_lib.BACKENDS}

# One test function per backend; gabbi parametrizes each with the tests
# of every YAML file (it recognizes its own test_pytest function).
test_sqlite = driver.test_pytest
test_postgresql = driver.test_pytest
test_mysql = driver.test_pytest


def _is_gabbi(item):
    return getattr(item, 'function', None) is driver.test_pytest


def _confine(pick_suites, attach_fixtures):
    """gabbi's pytest plugin (loaded by py_test_generator for the whole
    session) reads every test id with a colon as one of its own and fails
    on the others (KeyError); show it only gabbi's tests."""

    def pick(items, config):
        ours = [item for item in items if _is_gabbi(item)]
        pick_suites(ours, config)
        kept = set(map(id, ours))
        items[:] = [item for item in items
                    if not _is_gabbi(item) or id(item) in kept]

    def attach(items, config):
        attach_fixtures([item for item in items if _is_gabbi(item)], config)

    pick.confined = attach.confined = True
    return pick, attach


def _confine_gabbi_plugin():
    # Imported by py_test_generator as a pytest plugin (importing it
    # earlier would keep pytest from rewriting its asserts).
    from gabbi import pytester

    if not getattr(pytester.a_pytest_collection_modifyitems, 'confined',
                   False):
        (pytester.a_pytest_collection_modifyitems,
         pytester.c_pytest_collection_modifyitems) = _confine(
            pytester.a_pytest_collection_modifyitems,
            pytester.c_pytest_collection_modifyitems)


def pytest_generate_tests(metafunc):
    backend = metafunc.definition.name[len('test_'):]
    if backend not in PORTS:
        return
    port = PORTS[backend]
    driver.py_test_generator(
        TESTS_DIR, host=HOST, port=port,
        fixture_module=gabbi_fixtures.for_backend(backend, port),
        content_handlers=[gabbi_fixtures.JSONPatchHandler],
        # Plain HTTP; and gabbi builds one httpx client per test, which
        # loads the CA bundle (40 ms each) unless told not to verify.
        cert_validate=False,
        test_loader_name=backend, metafunc=metafunc)
    _confine_gabbi_plugin()
