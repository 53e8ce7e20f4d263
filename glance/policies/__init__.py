"""Policy defaults in code, and the one enforcer of the service.

Every API operation is guarded by exactly one of these rules (see each
rule's operations); the policy proxy in glance.api.policy checks it.
"""

import itertools

from oslo_config import cfg
from oslo_policy import policy

from glance.policies import base
from glance.policies import image
from glance.policies import member
from glance.policies import task

_ENFORCER = None


def list_rules():
    return list(itertools.chain(base.list_rules(), image.list_rules(),
                                member.list_rules(), task.list_rules()))


def get_enforcer(conf=None):
    """The enforcer, as oslopolicy-* tools and the service load it."""
    global _ENFORCER
    if _ENFORCER is None:
        conf = conf or cfg.CONF
        _ENFORCER = policy.Enforcer(conf, use_conf=True)
        _ENFORCER.register_defaults(list_rules())
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None
