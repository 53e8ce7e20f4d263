"""Tables of the image service.

The models only declare the schema (for alembic and for the data modules,
which write SQL against these tables directly). Times are naive UTC with
microseconds on every backend.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm

# MariaDB drops sub-second precision unless asked; PostgreSQL and SQLite
# keep microseconds anyway.
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
# Long text columns: MEDIUMTEXT on MariaDB so big JSON still fits.
LongText = sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql')
# Names compared byte for byte, as on PostgreSQL and SQLite: MariaDB's
# default collation would make tags "a" and "A" (or "a ") one unique key.
ExactName = sa.String(255).with_variant(
    mysql.VARCHAR(255, charset='utf8mb4', collation='utf8mb4_bin'), 'mysql')


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(naming_convention={
        'ix': 'ix_%(table_name)s_%(column_0_N_name)s',
        'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
        'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
        'pk': 'pk_%(table_name)s',
    })


class Image(Base):
    __tablename__ = 'images'
    id = sa.Column(sa.String(36), primary_key=True)
    name = sa.Column(sa.String(255))
    size = sa.Column(sa.BigInteger)
    virtual_size = sa.Column(sa.BigInteger)
    status = sa.Column(sa.String(30), nullable=False)
    visibility = sa.Column(sa.String(10), nullable=False)
    checksum = sa.Column(sa.String(32))
    os_hash_algo = sa.Column(sa.String(64))
    os_hash_value = sa.Column(sa.String(128))
    container_format = sa.Column(sa.String(32))
    disk_format = sa.Column(sa.String(32))
    min_disk = sa.Column(sa.Integer, nullable=False, default=0)
    min_ram = sa.Column(sa.Integer, nullable=False, default=0)
    owner = sa.Column(sa.String(255))
    protected = sa.Column(sa.Boolean, nullable=False, default=False)
    os_hidden = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(DateTime, nullable=False)
    updated_at = sa.Column(DateTime)
    deleted_at = sa.Column(DateTime)
    deleted = sa.Column(sa.Boolean, nullable=False, default=False)

    __table_args__ = (
        # The default list: live images by visibility/owner, newest first.
        sa.Index('ix_images_deleted_visibility_created',
                 'deleted', 'visibility', 'created_at'),
        sa.Index('ix_images_owner_deleted', 'owner', 'deleted'),
        sa.Index('ix_images_name', 'name'),
        sa.Index('ix_images_status', 'status'),
        sa.Index('ix_images_checksum', 'checksum'),
        sa.Index('ix_images_os_hash_value', 'os_hash_value'),
    )


class ImageProperty(Base):
    __tablename__ = 'image_properties'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    name = sa.Column(ExactName, nullable=False)
    value = sa.Column(LongText, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint('image_id', 'name'),
        # Property filters look rows up by name first.
        sa.Index('ix_image_properties_name', 'name'),
    )


class ImageTag(Base):
    __tablename__ = 'image_tags'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    value = sa.Column(ExactName, nullable=False)

    __table_args__ = (
        sa.UniqueConstraint('image_id', 'value'),
        sa.Index('ix_image_tags_value', 'value'),
    )


class ImageMember(Base):
    __tablename__ = 'image_members'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    member = sa.Column(sa.String(255), nullable=False)
    status = sa.Column(sa.String(20), nullable=False, default='pending')
    created_at = sa.Column(DateTime, nullable=False)
    updated_at = sa.Column(DateTime)

    __table_args__ = (
        sa.UniqueConstraint('image_id', 'member'),
        sa.Index('ix_image_members_member_status', 'member', 'status'),
    )


class ImageLocation(Base):
    __tablename__ = 'image_locations'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), sa.ForeignKey('images.id'),
                         nullable=False)
    url = sa.Column(LongText, nullable=False)
    # JSON text: {"store": "fast", ...}
    meta_data = sa.Column(LongText, nullable=False, default='{}')
    status = sa.Column(sa.String(30), nullable=False, default='active')
    position = sa.Column(sa.Integer, nullable=False, default=0)
    created_at = sa.Column(DateTime, nullable=False)
    updated_at = sa.Column(DateTime)

    __table_args__ = (
        sa.Index('ix_image_locations_image_id', 'image_id'),
    )


class Task(Base):
    __tablename__ = 'tasks'
    id = sa.Column(sa.String(36), primary_key=True)
    type = sa.Column(sa.String(30), nullable=False)
    status = sa.Column(sa.String(30), nullable=False)
    owner = sa.Column(sa.String(255))
    user_id = sa.Column(sa.String(255))
    request_id = sa.Column(sa.String(255))
    image_id = sa.Column(sa.String(36))
    # JSON texts.
    input = sa.Column(LongText)
    result = sa.Column(LongText)
    message = sa.Column(sa.Text)
    expires_at = sa.Column(DateTime)
    created_at = sa.Column(DateTime, nullable=False)
    updated_at = sa.Column(DateTime)
    deleted_at = sa.Column(DateTime)
    deleted = sa.Column(sa.Boolean, nullable=False, default=False)

    __table_args__ = (
        sa.Index('ix_tasks_owner_deleted', 'owner', 'deleted'),
        sa.Index('ix_tasks_image_id', 'image_id'),
        sa.Index('ix_tasks_status', 'status'),
    )


# The image cache's bookkeeping (the centralized_db driver): which node
# caches which image, with its size and hit count.
class NodeReference(Base):
    __tablename__ = 'node_reference'
    node_reference_id = sa.Column(
        sa.BigInteger().with_variant(sa.Integer, 'sqlite'),
        primary_key=True, autoincrement=True)
    node_reference_url = sa.Column(sa.String(255), nullable=False,
                                   unique=True)


class CachedImage(Base):
    __tablename__ = 'cached_images'
    id = sa.Column(sa.BigInteger().with_variant(sa.Integer, 'sqlite'),
                   primary_key=True, autoincrement=True)
    image_id = sa.Column(sa.String(36), nullable=False)
    last_accessed = sa.Column(DateTime, nullable=False)
    last_modified = sa.Column(DateTime, nullable=False)
    size = sa.Column(sa.BigInteger, nullable=False)
    hits = sa.Column(sa.Integer, nullable=False)
    checksum = sa.Column(sa.String(32))
    node_reference_id = sa.Column(
        sa.BigInteger().with_variant(sa.Integer, 'sqlite'),
        sa.ForeignKey('node_reference.node_reference_id'), nullable=False)

    __table_args__ = (
        sa.UniqueConstraint('image_id', 'node_reference_id'),
    )


class QuotaLock(Base):
    """One row per project, updated to serialize its quota checks."""
    __tablename__ = 'quota_locks'
    project_id = sa.Column(sa.String(255), primary_key=True)
    locked_at = sa.Column(DateTime)


class QuotaReservation(Base):
    """Bytes an unfinished upload or stage holds against a quota.

    A row counts only while its image is still in the status the
    resource names (see glance.db.quota), so a failed or finished
    operation stops counting even if nobody deletes the row.
    """
    __tablename__ = 'quota_reservations'
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    project_id = sa.Column(sa.String(255), nullable=False)
    image_id = sa.Column(sa.String(36), nullable=False)
    resource = sa.Column(sa.String(64), nullable=False)
    amount = sa.Column(sa.BigInteger, nullable=False, default=0)
    created_at = sa.Column(DateTime, nullable=False)

    __table_args__ = (
        sa.Index('ix_quota_reservations_project_id_resource',
                 'project_id', 'resource'),
    )


images = Image.__table__
image_properties = ImageProperty.__table__
image_tags = ImageTag.__table__
image_members = ImageMember.__table__
image_locations = ImageLocation.__table__
tasks = Task.__table__
node_reference = NodeReference.__table__
cached_images = CachedImage.__table__
quota_locks = QuotaLock.__table__
quota_reservations = QuotaReservation.__table__
