"""Shared fixtures of the unit tests.

oslo.config's CONF is global: the options are registered and CONF is
initialised (with no files) once per process, and every test gets its
overrides undone by an oslo.config fixture and a fresh policy enforcer.
Tests that need a parsed configuration of their own (the in-process
pipeline) run in a subprocess instead.
"""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import pytest

from glance.common import config
from glance import policies

CONF = cfg.CONF


def _init_conf():
    config.register_opts(CONF)
    # Parsing (of nothing) is what oslo.policy needs to look up files.
    CONF([], project='glance', default_config_files=[])


_init_conf()


@pytest.fixture(autouse=True)
def conf():
    """The global CONF; set_override freely, it is undone afterwards."""
    fixture = config_fixture.Config(CONF)
    fixture.setUp()
    # The fixture's clean-up un-parses CONF (ConfigOpts.reset), so parse
    # again for every test.
    _init_conf()
    try:
        yield fixture
    finally:
        fixture.cleanUp()
        policies.reset()


@pytest.fixture
def policy_file(conf, tmp_path):
    """use(text): make text, a policy file's rules, the operator's
    [oslo_policy] policy_file; undone with the configuration."""
    def use(text):
        path = tmp_path / 'policy.yaml'
        path.write_text(text)
        conf.config(policy_file=str(path), group='oslo_policy')
        policies.reset()
        return path
    return use
