"""who invited with which role: invitations.invited_by_role, campaigns.created_by_role

What an invitation may grant at redemption (groups, applications) depends on the inviter's role
(foyer.policy.invitation_refusal), so the role is recorded with the invitation. Rows written before
are backfilled from the inviter's API token: the token itself when `invited_by_id` is a token id,
else the tokens of the user it names when they all have one role. An inviter still unknown after
that is treated as no administrator (its pre-assignments are not granted at redemption).
Campaigns were only ever created by administrators (the API always required one), so their
creator's role is the token's, else User Administrator, the lesser of the two.

Revision ID: 0010
Revises: 0009
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _backfill(table: str, role_column: str, actor_column: str) -> None:
    op.execute(f"""
        UPDATE {table} SET {role_column} = (
            SELECT t.role FROM api_tokens t WHERE t.id = {table}.{actor_column})
        WHERE {role_column} IS NULL AND {actor_column} IS NOT NULL""")
    op.execute(f"""
        UPDATE {table} SET {role_column} = (
            SELECT CASE WHEN COUNT(DISTINCT t.role) = 1 THEN MIN(t.role) END
            FROM api_tokens t WHERE t.user_id = {table}.{actor_column})
        WHERE {role_column} IS NULL AND {actor_column} IS NOT NULL""")


def upgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_by_role', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_role', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    _backfill('invitations', 'invited_by_role', 'invited_by_id')
    _backfill('campaigns', 'created_by_role', 'created_by_id')
    op.execute("UPDATE campaigns SET created_by_role = 'User Administrator' WHERE created_by_role IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('created_by_role')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('invited_by_role')
