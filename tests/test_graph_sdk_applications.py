"""Through the official Graph SDK, unmodified: an admin registers an app as a relying party (web
redirect URIs, home page, an app role), adds a client secret, assigns a group to the role, lists
the app's assignments and removes the secret — what an Entra admin's script does."""

import uuid

import pytest
from msgraph.generated.applications.item.add_password.add_password_post_request_body import AddPasswordPostRequestBody
from msgraph.generated.applications.item.remove_password.remove_password_post_request_body import (
    RemovePasswordPostRequestBody,
)
from msgraph.generated.models.app_role import AppRole
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.application import Application
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_credential import PasswordCredential
from msgraph.generated.models.spa_application import SpaApplication
from msgraph.generated.models.web_application import WebApplication

from foyer.db import session_scope
from foyer.models.directory import Application as ApplicationRow
from foyer.usecases.openid_clients import client_secret_matches
from tests.factories import make_group_and_app
from tests.graph_sdk import graph_client


async def test_register_an_app_with_the_sdk(server, admin, organization_id):
    role_id = uuid.uuid4()
    group, _ = await make_group_and_app(organization_id, "Editors")
    async with graph_client(server, admin) as graph:
        app = await graph.applications.post(Application(
            display_name=f"SDK wiki {uuid.uuid4().hex[:6]}",
            web=WebApplication(redirect_uris=["https://wiki.example/signin-oidc"], home_page_url="https://wiki.example/"),
            spa=SpaApplication(redirect_uris=["http://localhost:3000"]),
            app_roles=[AppRole(id=role_id, value="Editor", display_name="Editor", description="Edits",
                               is_enabled=True, allowed_member_types=["User"])],
            group_membership_claims="SecurityGroup"))
        assert app.app_id and app.web.redirect_uris == ["https://wiki.example/signin-oidc"]
        assert app.app_roles[0].id == role_id and app.app_roles[0].origin == "Application"
        assert app.additional_data.get("appRoleAssignmentRequired") is True

        with pytest.raises(ODataError) as refused:
            await graph.applications.by_application_id(app.id).patch(Application(
                web=WebApplication(redirect_uris=["http://wiki.example/cb"])))
        assert refused.value.response_status_code == 400

        secret = await graph.applications.by_application_id(app.id).add_password.post(
            AddPasswordPostRequestBody(password_credential=PasswordCredential(display_name="deploy")))
        assert secret.secret_text and secret.key_id and secret.hint == secret.secret_text[:3]

        assignment = await graph.applications.by_application_id(app.id).app_role_assigned_to.post(
            AppRoleAssignment(principal_id=uuid.UUID(group.id), resource_id=uuid.UUID(app.id), app_role_id=role_id))
        assert assignment.principal_type == "Group" and assignment.app_role_id == role_id
        listed = await graph.applications.by_application_id(app.id).app_role_assigned_to.get()
        assert [a.id for a in listed.value] == [assignment.id]
        group_side = await graph.groups.by_group_id(group.id).app_role_assignments.get()
        assert [a.id for a in group_side.value] == [assignment.id]

        got = await graph.applications.by_application_id(app.id).get()
        assert [c.key_id for c in got.password_credentials] == [secret.key_id]
        assert got.password_credentials[0].secret_text is None

        async with session_scope() as session:
            stored = (await session.get(ApplicationRow, app.id)).password_credentials
        assert client_secret_matches(secret.secret_text, stored[0]["secretHash"])

        await graph.applications.by_application_id(app.id).remove_password.post(
            RemovePasswordPostRequestBody(key_id=secret.key_id))
        assert (await graph.applications.by_application_id(app.id).get()).password_credentials == []
