"""metadata definitions catalog

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 09:30:00

The six metadef tables, with the reference's names, and the resource
types every deployment starts with.
"""

import datetime

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
_NAME = sa.String(80).with_variant(
    mysql.VARCHAR(80, charset='utf8mb4', collation='utf8mb4_bin'), 'mysql')
_LONG = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql')

# Written out here rather than imported: a migration must keep seeding
# the same rows whatever later code says.
_DEFAULT_RESOURCE_TYPES = (
    'OS::Glance::Image',
    'OS::Cinder::Volume',
    'OS::Nova::Flavor',
    'OS::Nova::Aggregate',
    'OS::Nova::Server',
    'OS::Trove::Instance',
)


def _times():
    return [sa.Column('created_at', _TIME, nullable=False),
            sa.Column('updated_at', _TIME, nullable=True)]


def _child_table(name, *columns):
    """objects, properties and tags: a name unique in its namespace."""
    op.create_table(
        name,
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('namespace_id', sa.Integer(), nullable=False),
        sa.Column('name', _NAME, nullable=False),
        *columns,
        *_times(),
        sa.ForeignKeyConstraint(
            ['namespace_id'], ['metadef_namespaces.id'],
            name=op.f('fk_%s_namespace_id_metadef_namespaces' % name)),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_%s' % name)),
        sa.UniqueConstraint('namespace_id', 'name',
                            name=op.f('uq_%s_namespace_id_name' % name)))
    op.create_index('ix_%s_name' % name, name, ['name'], unique=False)


def upgrade():
    op.create_table(
        'metadef_namespaces',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('namespace', _NAME, nullable=False),
        sa.Column('display_name', sa.String(80), nullable=True),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('visibility', sa.String(32), nullable=True),
        sa.Column('protected', sa.Boolean(), nullable=True),
        sa.Column('owner', sa.String(255), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metadef_namespaces')),
        sa.UniqueConstraint('namespace',
                            name=op.f('uq_metadef_namespaces_namespace')))
    op.create_index('ix_metadef_namespaces_owner', 'metadef_namespaces',
                    ['owner'], unique=False)

    resource_types = op.create_table(
        'metadef_resource_types',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', _NAME, nullable=False),
        sa.Column('protected', sa.Boolean(), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_metadef_resource_types')),
        sa.UniqueConstraint('name',
                            name=op.f('uq_metadef_resource_types_name')))

    op.create_table(
        'metadef_namespace_resource_types',
        sa.Column('resource_type_id', sa.Integer(), nullable=False),
        sa.Column('namespace_id', sa.Integer(), nullable=False),
        sa.Column('properties_target', sa.String(80), nullable=True),
        sa.Column('prefix', sa.String(80), nullable=True),
        *_times(),
        sa.ForeignKeyConstraint(
            ['namespace_id'], ['metadef_namespaces.id'],
            name=op.f('fk_metadef_namespace_resource_types_namespace_id_'
                      'metadef_namespaces')),
        sa.ForeignKeyConstraint(
            ['resource_type_id'], ['metadef_resource_types.id'],
            name=op.f('fk_metadef_namespace_resource_types_resource_type_id_'
                      'metadef_resource_types')),
        sa.PrimaryKeyConstraint(
            'resource_type_id', 'namespace_id',
            name=op.f('pk_metadef_namespace_resource_types')))
    op.create_index('ix_metadef_ns_res_types_namespace_id',
                    'metadef_namespace_resource_types', ['namespace_id'],
                    unique=False)

    _child_table('metadef_objects',
                 sa.Column('description', sa.Text(), nullable=True),
                 sa.Column('required', sa.Text(), nullable=True),
                 sa.Column('json_schema', _LONG, nullable=False))
    _child_table('metadef_properties',
                 sa.Column('json_schema', _LONG, nullable=False))
    _child_table('metadef_tags')

    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    op.bulk_insert(resource_types, [
        {'name': name, 'protected': True, 'created_at': now,
         'updated_at': now}
        for name in _DEFAULT_RESOURCE_TYPES])


def downgrade():
    for table in ('metadef_tags', 'metadef_properties', 'metadef_objects',
                  'metadef_namespace_resource_types',
                  'metadef_resource_types', 'metadef_namespaces'):
        op.drop_table(table)
