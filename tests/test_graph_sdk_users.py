"""Through the official Graph SDK: an admin creates a member the way Graph requires (with a
passwordProfile, which Foyer keeps nowhere), reads, updates and deletes them."""

import uuid

import pytest
from kiota_abstractions.api_error import APIError
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.user import User
from sqlmodel import select

from foyer.db import session_scope
from foyer.models.audit import AuditRecord
from foyer.models.directory import User as UserRow
from tests.graph_sdk import graph_client


async def test_create_a_member_with_a_password_profile(server, admin):
    handle = uuid.uuid4().hex[:10]
    upn = f"sdk.member.{handle}@contoso.test"
    password = f"Pw-{uuid.uuid4().hex}"
    async with graph_client(server, admin) as graph:
        created = await graph.users.post(User(
            account_enabled=True, display_name="Mo SDK", mail_nickname=f"mo{handle}",
            user_principal_name=upn, job_title="Buyer", usage_location="NO",
            password_profile=PasswordProfile(force_change_password_next_sign_in=True, password=password)))
        assert created.id and created.user_principal_name == upn and created.user_type == "Member"
        assert created.mail == upn and created.account_enabled is True
        assert created.password_profile is None  # Foyer has no passwords: never stored, never shown

        await graph.users.by_user_id(created.id).patch(User(display_name="Mo Renamed", account_enabled=False))
        got = await graph.users.by_user_id(created.id).get()
        assert got.display_name == "Mo Renamed" and got.account_enabled is False

        # Graph refuses a property its user does not have; so does Foyer, as an ODataError.
        with pytest.raises(ODataError) as refused:
            await graph.users.post(User(display_name="X", user_principal_name=f"x.{handle}@contoso.test",
                                        additional_data={"shoeSize": 42}))
        assert refused.value.response_status_code == 400
        assert refused.value.error.code and "shoeSize" in refused.value.error.message

        await graph.users.by_user_id(created.id).delete()
        with pytest.raises(APIError) as gone:
            await graph.users.by_user_id(created.id).get()
        assert gone.value.response_status_code == 404

    async with session_scope() as session:
        assert await session.get(UserRow, created.id) is None
        audits = (await session.exec(select(AuditRecord).where(AuditRecord.target_id == created.id))).all()
    assert [a.activity_display_name for a in audits] and all(password not in repr(a.model_dump()) for a in audits)
