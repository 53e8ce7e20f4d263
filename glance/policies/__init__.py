"""Policy defaults in code, and the one enforcer of the service.

Every API operation is guarded by exactly one of these rules (see each
rule's operations); the policy proxy in glance.api.policy checks it.
"""

import inspect
import itertools
import threading
import time

from oslo_config import cfg
from oslo_policy import _checks
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
    more than the checks themselves cost).

    The rules are loaded once before the enforcer is handed out, and
    reloads are serialized, so no thread skips loading while another one
    is half-way through filling the rules in (it would find a rule
    missing and refuse).
    """

    _checked_at = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._reload_lock = threading.Lock()

    def load_rules(self, force_reload=False):
        if (not force_reload and self._checked_at is not None and
                time.monotonic() - self._checked_at < RELOAD_SECONDS):
            return
        with self._reload_lock:
            if (not force_reload and self._checked_at is not None and
                    time.monotonic() - self._checked_at < RELOAD_SECONDS):
                return
            super().load_rules(force_reload)
            self._checked_at = time.monotonic()


def _cache_check_signatures():
    """Let oslo.policy inspect each check class's signature once.

    oslo.policy's _checks._check calls inspect.getfullargspec on the
    check's __call__ for every node of every rule on every enforce, to
    decide whether to pass the rule name; that was a fifth of the CPU of
    showing an image. The answer depends only on the check's class, so it
    is computed once per class here; what is called, and with what, is
    unchanged.
    """
    if getattr(_checks._check, 'glance_cached', False):
        return
    takes_rule_name = {}

    def _check(rule, target, creds, enforcer, current_rule):
        kind = type(rule)
        takes = takes_rule_name.get(kind)
        if takes is None:
            takes = len(inspect.getfullargspec(rule.__call__).args) > 4
            takes_rule_name[kind] = takes
        if takes:
            return rule(target, creds, enforcer, current_rule)
        return rule(target, creds, enforcer)

    _check.glance_cached = True
    _checks._check = _check


_cache_check_signatures()


def list_rules():
    return list(itertools.chain(base.list_rules(), image.list_rules(),
                                member.list_rules(), task.list_rules(),
                                metadef.list_rules()))


def get_enforcer(conf=None):
    """The enforcer, as oslopolicy-* tools and the service load it."""
    global _ENFORCER
    if _ENFORCER is None:
        conf = conf or cfg.CONF
        enforcer = Enforcer(conf, use_conf=True)
        enforcer.register_defaults(list_rules())
        enforcer.load_rules()
        _ENFORCER = enforcer
    return _ENFORCER


def reset():
    global _ENFORCER
    if _ENFORCER is not None:
        _ENFORCER.clear()
    _ENFORCER = None
