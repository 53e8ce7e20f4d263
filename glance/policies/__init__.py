"""Policy defaults in code, and the one enforcer of the service.

Every API operation is guarded by exactly one of these rules (see each
rule's operations); the policy proxy in glance.api.policy checks it.
"""

import itertools
import time

from oslo_config import cfg
from oslo_policy import policy

from glance.policies import base
from glance.policies import image
from glance.policies import member
from glance.policies import metadef
from glance.policies import task

_ENFORCER = None
# How often, at most, the policy file is looked for and checked for edits.
RELOAD_SECONDS = 1.0


class Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking at the policy file at most once a
    second instead of on every check (a path search and a stat each time,
    more than the checks themselves cost)."""

    _checked_at = None

    def load_rules(self, force_reload=False):
        now = time.monotonic()
        if (not force_reload and self.rules and self._checked_at is not None
                and now - self._checked_at < RELOAD_SECONDS):
            return
        self._checked_at = now
        super().load_rules(force_reload)


def list_rules():
    return list(itertools.chain(base.list_rules(), image.list_rules(),
                                member.list_rules(), task.list_rules(),
                                metadef.list_rules()))


def get_enforcer(conf=None):
    """The enforcer, as oslopolicy-* tools and the service load it."""
    global _ENFORCER
    if _ENFORCER is None:
        conf = conf or cfg.CONF
        _ENFORCER = Enforcer(conf, use_conf=True)
        _ENFORCER.register_defaults(list_rules())
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None
