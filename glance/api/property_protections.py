"""Property protections: who may create, read, update and delete which
extra image properties, from the operator's rules file.

The file (``property_protection_file``) is INI. Each section name is a
regular expression matched (``re.match``, so anchored at the start) against
a property name; sections are tried in file order and the first that
matches decides. Each section gives ``create``, ``read``, ``update`` and
``delete``:

* ``property_protection_rule_format = roles``: a comma-separated list of
  roles, any of which allows the operation; ``@`` allows everyone, ``!``
  no one.
* ``property_protection_rule_format = policies``: one policy rule name
  (defined in the policy file or in code), or ``@`` / ``!``.

A property that no section matches is denied to everyone for every
operation. Denying ``read`` hides the property from every response and
also denies update and delete. An operation missing from a section is
denied (with a warning at start-up).

Reserved ``os_glance_*`` properties are not governed by the file: users
can never write them (the API refuses them), the service always can, and
everyone who sees the image sees them.

A file that is missing, unreadable or malformed stops the service at
start-up with a message naming the problem (PropertyProtectionError).
"""

import configparser
import re

from oslo_config import cfg
from oslo_log import log as logging
from oslo_policy import policy as oslo_policy

from glance.domain import image as domain_image
from glance import policies

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

OPERATIONS = ('create', 'read', 'update', 'delete')
ALLOW_ALL = '@'
ALLOW_NONE = '!'


class PropertyProtectionError(RuntimeError):
    """The property protection file cannot be used."""


class _RoleCheck:
    def __init__(self, roles):
        self.everyone = ALLOW_ALL in roles
        self.roles = frozenset(r.lower() for r in roles
                               if r not in (ALLOW_ALL, ALLOW_NONE))

    def __call__(self, context):
        if self.everyone:
            return True
        return bool(self.roles.intersection(context.roles))


class _PolicyCheck:
    def __init__(self, rule):
        self.rule = rule

    def __call__(self, context):
        if self.rule == ALLOW_ALL:
            return True
        if self.rule == ALLOW_NONE:
            return False
        try:
            return policies.get_enforcer().enforce(self.rule, {}, context)
        except oslo_policy.InvalidScope:
            return False


def _deny(context):
    return False


class Rules:
    """The parsed rules: an ordered list of (pattern, {operation: check})."""

    def __init__(self, sections, path=None, rule_format='roles'):
        self.sections = sections
        self.path = path
        self.rule_format = rule_format

    def check(self, context, name, operation):
        """Whether the caller may carry out operation on property name."""
        if domain_image.is_reserved_name(name):
            return True
        for pattern, checks in self.sections:
            if pattern.match(name):
                if operation in ('update', 'delete') and \
                        not checks['read'](context):
                    return False
                return checks[operation](context)
        return False

    def can_read(self, context, name):
        return self.check(context, name, 'read')


def _error(path, message):
    return PropertyProtectionError(
        'Property protection file %s: %s' % (path, message))


def _parse_value(path, section, operation, value, rule_format):
    entries = [v.strip() for v in value.split(',') if v.strip()]
    if not entries:
        raise _error(path, '[%s] %s is empty; use "!" to deny everyone.'
                     % (section, operation))
    if rule_format == 'policies':
        if len(entries) != 1:
            raise _error(path, '[%s] %s names %d policies; the policies '
                         'format takes exactly one policy rule name per '
                         'operation.' % (section, operation, len(entries)))
        rule = entries[0]
        if rule not in (ALLOW_ALL, ALLOW_NONE):
            enforcer = policies.get_enforcer()
            enforcer.load_rules()
            if rule not in enforcer.rules:
                raise _error(path, '[%s] %s names the policy rule "%s", '
                             'which is not defined in the policy file or '
                             'in code.' % (section, operation, rule))
        return _PolicyCheck(rule)
    if len(entries) > 1 and (ALLOW_ALL in entries or ALLOW_NONE in entries):
        raise _error(path, '[%s] %s mixes "@" or "!" with roles; give '
                     'either one of them alone or a list of roles.'
                     % (section, operation))
    return _RoleCheck(entries)


def parse(path, rule_format='roles'):
    """Rules from the file at path; PropertyProtectionError if unusable."""
    if rule_format not in ('roles', 'policies'):
        raise _error(path, 'unknown rule format %r.' % rule_format)
    parser = configparser.ConfigParser(interpolation=None,
                                       delimiters=('=',),
                                       comment_prefixes=('#', ';'),
                                       default_section='\x00none',
                                       strict=True)
    parser.optionxform = str
    try:
        with open(path, encoding='utf-8') as f:
            parser.read_file(f)
    except FileNotFoundError:
        raise _error(path, 'the file does not exist (set '
                     '[DEFAULT] property_protection_file to an existing '
                     'file, or unset it to turn property protections off).')
    except (OSError, UnicodeDecodeError) as e:
        raise _error(path, 'the file cannot be read: %s' % e)
    except configparser.Error as e:
        raise _error(path, 'the file is malformed: %s'
                     % str(e).replace('\n', ' '))
    if not parser.sections():
        raise _error(path, 'the file defines no sections; every property '
                     'would be denied to everyone.')
    sections = []
    for name in parser.sections():
        try:
            pattern = re.compile(name)
        except re.error as e:
            raise _error(path, 'section [%s] is not a valid regular '
                         'expression: %s.' % (name, e))
        options = dict(parser.items(name))
        unknown = set(options) - set(OPERATIONS)
        if unknown:
            raise _error(path, 'section [%s] has unknown operation(s) %s; '
                         'the operations are %s.'
                         % (name, ', '.join(sorted(unknown)),
                            ', '.join(OPERATIONS)))
        checks = {}
        for operation in OPERATIONS:
            if operation not in options:
                LOG.warning('Property protection file %s: section [%s] '
                            'does not give "%s"; nobody may %s matching '
                            'properties.', path, name, operation, operation)
                checks[operation] = _deny
                continue
            checks[operation] = _parse_value(path, name, operation,
                                             options[operation],
                                             rule_format)
        sections.append((pattern, checks))
    return Rules(sections, path=path, rule_format=rule_format)


_RULES = None
_LOADED = False


def load(conf=CONF):
    """Read the configured file (at start-up); None if none configured."""
    global _RULES, _LOADED
    path = conf.property_protection_file
    _RULES = parse(path, conf.property_protection_rule_format) \
        if path else None
    _LOADED = True
    if _RULES is not None:
        LOG.info('Property protections from %s (%s format, %d sections)',
                 path, conf.property_protection_rule_format,
                 len(_RULES.sections))
    return _RULES


def get_rules():
    """The rules in force, or None when property protections are off."""
    if not _LOADED:
        load()
    return _RULES


def reset():
    global _RULES, _LOADED
    _RULES = None
    _LOADED = False
