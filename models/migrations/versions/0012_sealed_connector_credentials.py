"""API connector credentials encrypted at rest (Basic password, PKCS#12 and its password)

Revision ID: 0012
Revises: 0011

Upgrade seals every clear value in place (foyer.security.seal, under FOYER_SECRET_KEY); downgrade
opens them again (with FOYER_SECRET_KEY or one of FOYER_PREVIOUS_SECRET_KEYS), as older versions
read them in clear. The column types do not change.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from foyer.security import is_sealed, seal, unseal
from foyer.models.sign_up import SEALED_CONNECTOR_COLUMNS, connector_credential_context


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

connectors = sa.table('api_connectors', sa.column('id', sa.String),
                      *(sa.column(name, sa.String) for name in SEALED_CONNECTOR_COLUMNS))


def _convert(change) -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(connectors)).mappings().all():
        values = {}
        for column in SEALED_CONNECTOR_COLUMNS:
            new = change(row[column], connector_credential_context(row['id'], column))
            if new != row[column]:
                values[column] = new
        if values:
            connection.execute(connectors.update().where(connectors.c.id == row['id']).values(**values))


def upgrade() -> None:
    _convert(lambda value, context: value if value is None or is_sealed(value) else seal(value, context))


def downgrade() -> None:
    _convert(lambda value, context: unseal(value, context) if is_sealed(value) else value)
