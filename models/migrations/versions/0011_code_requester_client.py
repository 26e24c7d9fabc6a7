"""code requests remember the client that asked (per-client code limits)

Revision ID: 0011
Revises: 0010
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for table in ('sign_in_challenges', 'passcodes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('client', sa.String(), nullable=True))


def downgrade() -> None:
    for table in ('sign_in_challenges', 'passcodes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('client')
