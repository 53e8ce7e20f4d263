"""image cache bookkeeping: node_reference and cached_images

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table(
        'node_reference',
        sa.Column('node_reference_id', _ID, autoincrement=True,
                  nullable=False),
        sa.Column('node_reference_url', sa.String(length=255),
                  nullable=False),
        sa.PrimaryKeyConstraint('node_reference_id',
                                name='pk_node_reference'),
        sa.UniqueConstraint('node_reference_url',
                            name='uq_node_reference_node_reference_url'))
    op.create_table(
        'cached_images',
        sa.Column('id', _ID, autoincrement=True, nullable=False),
        sa.Column('image_id', sa.String(length=36), nullable=False),
        sa.Column('last_accessed', _TIME, nullable=False),
        sa.Column('last_modified', _TIME, nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('checksum', sa.String(length=32), nullable=True),
        sa.Column('node_reference_id', _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ['node_reference_id'], ['node_reference.node_reference_id'],
            name='fk_cached_images_node_reference_id_node_reference'),
        sa.PrimaryKeyConstraint('id', name='pk_cached_images'),
        sa.UniqueConstraint(
            'image_id', 'node_reference_id',
            name='uq_cached_images_image_id_node_reference_id'))


def downgrade():
    op.drop_table('cached_images')
    op.drop_table('node_reference')
