"""glance-manage: database administration.

    glance-manage db sync          create or upgrade the schema to head
    glance-manage db upgrade [REV] upgrade to REV (default head)
    glance-manage db version       print the current revision
    glance-manage db check         exit 0 if current, 3 if an upgrade is due
    glance-manage db load_metadefs [--path DIR] [--merge]
                                   [--prefer_new] [--overwrite]
    glance-manage db unload_metadefs
    glance-manage db export_metadefs [--path DIR]

The metadefs commands also take the reference's positional forms
(``db load_metadefs DIR [MERGE [PREFER_NEW [OVERWRITE]]]``,
``db export_metadefs DIR``) and its older spellings ``db_load_metadefs``,
``db_unload_metadefs`` and ``db_export_metadefs``.
"""

import sys

from oslo_config import cfg
from oslo_utils import strutils

from glance.common import config
from glance.common import exception
from glance.common import metadef_files
from glance.db import metadef_admin
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


class CommandError(Exception):
    """Bad arguments or input: reported on stderr, exit status 1."""


def _flag(option, positional, name):
    """An option given as --name or as the reference's positional word
    (true/false, yes/no, 1/0...)."""
    if option:
        return True
    if positional is None:
        return False
    try:
        return strutils.bool_from_string(positional, strict=True)
    except ValueError:
        raise CommandError('%s must be true or false, not %r'
                           % (name, positional))


def _metadefs_path():
    command = CONF.command
    return metadef_files.default_path(
        getattr(command, 'path', None) or
        getattr(command, 'path_arg', None) or CONF.metadata_source_path)


def _property_check(definition):
    """Property definitions must be what the API itself accepts."""
    # Imported here: it brings the WSGI stack, which the other commands
    # do not need.
    from glance.api.v2 import metadef_schemas
    try:
        metadef_schemas.validate('property', definition, read_only=(),
                                 require_name=False)
    except exception.GlanceError as e:
        raise ValueError(e.message)


def db_load_metadefs():
    command = CONF.command
    merge = _flag(command.merge, command.merge_arg, 'merge')
    prefer_new = _flag(command.prefer_new, command.prefer_new_arg,
                       'prefer_new')
    overwrite = _flag(command.overwrite, command.overwrite_arg,
                      'overwrite')
    if (prefer_new or overwrite) and not merge:
        raise CommandError('--prefer_new and --overwrite only apply with '
                           '--merge.')
    if prefer_new and overwrite:
        raise CommandError('Give --prefer_new or --overwrite, not both.')
    path = _metadefs_path()
    namespaces = metadef_files.read_all(path, _property_check)
    outcomes = metadef_admin.load(namespaces, merge=merge,
                                  prefer_new=prefer_new,
                                  overwrite=overwrite)
    for name, outcome in outcomes:
        if outcome == metadef_admin.SKIPPED:
            print('Namespace %s skipped: it is already in the database '
                  '(--merge merges it).' % name)
        else:
            print('Namespace %s %s.' % (name, outcome))
    print('Loaded %d of %d namespaces from %s.'
          % (sum(1 for _name, outcome in outcomes
                 if outcome != metadef_admin.SKIPPED),
             len(outcomes), path))


def db_unload_metadefs():
    count = metadef_admin.unload()
    print('Unloaded %d namespaces.' % count)


def db_export_metadefs():
    path = _metadefs_path()
    written = metadef_files.write_all(path, metadef_admin.read_all())
    for file_path in written:
        print('Wrote %s' % file_path)
    print('Exported %d namespaces to %s.' % (len(written), path))


_LOAD_ARGUMENTS = (
    ('path', 'Directory (or single file) of JSON definition files. '
             'Default: [DEFAULT] metadata_source_path.'),
    ('merge', 'Merge the files into namespaces already in the database '
              'instead of skipping those namespaces; what is in the '
              'database wins.'),
    ('prefer_new', 'With --merge: definitions from the files replace '
                   'those of the same name.'),
    ('overwrite', 'With --merge: namespaces in the files are deleted and '
                  'loaded again from them.'),
)


def _add_arguments(parser, arguments, options):
    """--name options (unless options is False, as for the reference's
    one-word commands) and the same arguments as the reference's
    positional words: DIR and, for flags, true or false."""
    for name, help_text in arguments:
        if not options:
            parser.set_defaults(**{name: None})
        elif name == 'path':
            parser.add_argument('--path', metavar='DIR', help=help_text)
        else:
            parser.add_argument('--' + name, action='store_true',
                                help=help_text)
    for name, _help in arguments:
        what = ('the same as --path' if name == 'path' else
                'true or false: the same as --%s' % name)
        parser.add_argument(name + '_arg', nargs='?', metavar=name.upper(),
                            help='%s (the positional form of the '
                                 'reference service).' % what)


def _add_metadefs_parsers(subparsers, prefix=''):
    options = not prefix
    parser = subparsers.add_parser(
        prefix + 'load_metadefs',
        help='Load metadata definition files into the database.')
    _add_arguments(parser, _LOAD_ARGUMENTS, options)
    parser.set_defaults(func=db_load_metadefs)
    parser = subparsers.add_parser(
        prefix + 'unload_metadefs',
        help='Delete every metadata definition from the database.')
    parser.set_defaults(func=db_unload_metadefs)
    parser = subparsers.add_parser(
        prefix + 'export_metadefs',
        help='Write the metadata definitions of the database to files, '
             'one namespace a file.')
    _add_arguments(parser, [('path', 'Directory to write the files to. '
                                     'Default: [DEFAULT] '
                                     'metadata_source_path.')], options)
    parser.set_defaults(func=db_export_metadefs)


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
    _add_metadefs_parsers(db_commands)
    # The reference's older one-word commands, still in operators' scripts.
    _add_metadefs_parsers(subparsers, prefix='db_')


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=add_command_parsers)


def main(argv=None):
    CONF.register_cli_opt(command_opt)
    config.parse_args(sys.argv[1:] if argv is None else argv,
                      prog='glance-manage')
    try:
        result = CONF.command.func()
    except (CommandError, metadef_files.DefinitionFileError) as e:
        print('ERROR: %s' % e, file=sys.stderr)
        return 1
    return result or 0


if __name__ == '__main__':
    sys.exit(main())
