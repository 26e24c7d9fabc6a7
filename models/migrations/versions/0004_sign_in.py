"""sign-in challenges (email one-time passcodes for Foyer's own pages)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel
import foyer.models.base


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('sign_in_challenges',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('expires_date_time', foyer.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consumed_date_time', foyer.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_date_time', foyer.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_challenges_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_challenges_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_challenges_created_date_time'), ['created_date_time'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_challenges_created_date_time'))
        batch_op.drop_index(batch_op.f('ix_sign_in_challenges_email'))
        batch_op.drop_index(batch_op.f('ix_sign_in_challenges_organization_id'))
    op.drop_table('sign_in_challenges')
