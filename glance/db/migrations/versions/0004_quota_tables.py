"""quota locks and reservations

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:25:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade():
    op.create_table(
        'quota_locks',
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.Column('locked_at', DateTime, nullable=True),
        sa.PrimaryKeyConstraint('project_id', name=op.f('pk_quota_locks')))
    op.create_table(
        'quota_reservations',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('project_id', sa.String(length=255), nullable=False),
        sa.Column('image_id', sa.String(length=36), nullable=False),
        sa.Column('resource', sa.String(length=64), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('created_at', DateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_reservations')))
    op.create_index('ix_quota_reservations_project_id_resource',
                    'quota_reservations', ['project_id', 'resource'],
                    unique=False)


def downgrade():
    op.drop_index('ix_quota_reservations_project_id_resource',
                  table_name='quota_reservations')
    op.drop_table('quota_reservations')
    op.drop_table('quota_locks')
