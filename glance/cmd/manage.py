"""glance-manage: database administration.

    glance-manage db sync          create or upgrade the schema to head
    glance-manage db upgrade [REV] upgrade to REV (default head)
    glance-manage db version       print the current revision
    glance-manage db check         exit 0 if current, 3 if an upgrade is due
"""

import sys

from oslo_config import cfg

from glance.common import config
from glance.db import migration

CONF = cfg.CONF

EXIT_UPGRADE_NEEDED = 3


def db_sync():
    migration.upgrade('head')
    print('Database is at revision %s.' % migration.current())


def db_upgrade():
    migration.upgrade(CONF.command.revision or 'head')
    print('Database is at revision %s.' % migration.current())


def db_version():
    print(migration.current() or 'None (empty database)')


def db_check():
    current, head = migration.current(), migration.head()
    if current == head:
        print('Database is current (revision %s).' % current)
        return 0
    print('Database is at revision %s; head is %s. Run "glance-manage db '
          'sync".' % (current, head))
    return EXIT_UPGRADE_NEEDED


def add_command_parsers(subparsers):
    db = subparsers.add_parser('db', help='Database administration.')
    db_commands = db.add_subparsers(dest='db_command')
    db_commands.required = True
    for name, func, help_text in (
            ('sync', db_sync, 'Create or upgrade the schema to head.'),
            ('version', db_version, 'Print the current schema revision.'),
            ('check', db_check, 'Exit 0 if the schema is current, 3 if '
                                'not.')):
        parser = db_commands.add_parser(name, help=help_text)
        parser.set_defaults(func=func)
    parser = db_commands.add_parser('upgrade', help='Upgrade the schema.')
    parser.add_argument('revision', nargs='?', default='head')
    parser.set_defaults(func=db_upgrade)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=add_command_parsers)


def main(argv=None):
    CONF.register_cli_opt(command_opt)
    config.parse_args(sys.argv[1:] if argv is None else argv,
                      prog='glance-manage')
    result = CONF.command.func()
    return result or 0


if __name__ == '__main__':
    sys.exit(main())
