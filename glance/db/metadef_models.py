"""Tables of the metadata definitions catalog (/v2/metadefs).

Same table, column and constraint names as the reference service, so
operators' databases and definition files carry over. They share the
image tables' metadata (glance.db.models.Base), so one alembic history
covers both. Names are compared byte for byte on every backend.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from glance.db import models

DateTime = models.DateTime
LongText = models.LongText
# 80 characters is the reference's limit on every metadef name.
NAME_LENGTH = 80
ExactName = sa.String(NAME_LENGTH).with_variant(
    mysql.VARCHAR(NAME_LENGTH, charset='utf8mb4', collation='utf8mb4_bin'),
    'mysql')


class _Times:
    created_at = sa.Column(DateTime, nullable=False)
    updated_at = sa.Column(DateTime)


class MetadefNamespace(_Times, models.Base):
    __tablename__ = 'metadef_namespaces'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace = sa.Column(ExactName, nullable=False)
    display_name = sa.Column(sa.String(NAME_LENGTH))
    description = sa.Column(sa.Text)
    visibility = sa.Column(sa.String(32))
    protected = sa.Column(sa.Boolean)
    owner = sa.Column(sa.String(255), nullable=False)

    __table_args__ = (
        sa.UniqueConstraint('namespace'),
        sa.Index('ix_metadef_namespaces_owner', 'owner'),
    )


class MetadefResourceType(_Times, models.Base):
    __tablename__ = 'metadef_resource_types'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    name = sa.Column(ExactName, nullable=False)
    # Seeded and file-loaded types are protected: never deleted.
    protected = sa.Column(sa.Boolean, nullable=False, default=False)

    __table_args__ = (
        sa.UniqueConstraint('name'),
    )


class MetadefNamespaceResourceType(_Times, models.Base):
    __tablename__ = 'metadef_namespace_resource_types'
    resource_type_id = sa.Column(
        sa.Integer, sa.ForeignKey('metadef_resource_types.id'),
        primary_key=True)
    namespace_id = sa.Column(
        sa.Integer, sa.ForeignKey('metadef_namespaces.id'),
        primary_key=True)
    properties_target = sa.Column(sa.String(NAME_LENGTH))
    prefix = sa.Column(sa.String(NAME_LENGTH))

    __table_args__ = (
        sa.Index('ix_metadef_ns_res_types_namespace_id', 'namespace_id'),
    )


class MetadefObject(_Times, models.Base):
    __tablename__ = 'metadef_objects'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(
        sa.Integer, sa.ForeignKey('metadef_namespaces.id'), nullable=False)
    name = sa.Column(ExactName, nullable=False)
    description = sa.Column(sa.Text)
    # JSON text: the list of required property names.
    required = sa.Column(sa.Text)
    # JSON text: {"properties": {...}} of the object.
    json_schema = sa.Column(LongText, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name'),
        sa.Index('ix_metadef_objects_name', 'name'),
    )


class MetadefProperty(_Times, models.Base):
    __tablename__ = 'metadef_properties'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(
        sa.Integer, sa.ForeignKey('metadef_namespaces.id'), nullable=False)
    name = sa.Column(ExactName, nullable=False)
    # JSON text: the property's definition without its name.
    json_schema = sa.Column(LongText, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name'),
        sa.Index('ix_metadef_properties_name', 'name'),
    )


class MetadefTag(_Times, models.Base):
    __tablename__ = 'metadef_tags'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id = sa.Column(
        sa.Integer, sa.ForeignKey('metadef_namespaces.id'), nullable=False)
    name = sa.Column(ExactName, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint('namespace_id', 'name'),
        sa.Index('ix_metadef_tags_name', 'name'),
    )


# The resource types every deployment starts with (those the reference's
# bundled definition files associate), protected from deletion.
DEFAULT_RESOURCE_TYPES = (
    'OS::Glance::Image',
    'OS::Cinder::Volume',
    'OS::Nova::Flavor',
    'OS::Nova::Aggregate',
    'OS::Nova::Server',
    'OS::Trove::Instance',
)

namespaces = MetadefNamespace.__table__
resource_types = MetadefResourceType.__table__
namespace_resource_types = MetadefNamespaceResourceType.__table__
objects = MetadefObject.__table__
properties = MetadefProperty.__table__
tags = MetadefTag.__table__
