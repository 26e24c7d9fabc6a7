"""Through the official Graph SDK, unmodified: an admin registers an app as a relying party (web
redirect URIs, home page, an app role), adds a client secret, finds the app's service principal
by appId, makes assignment optional there, assigns a group to the role through it, lists the
assignments and removes the secret — what an Entra admin's script does."""

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
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.spa_application import SpaApplication
from msgraph.generated.models.web_application import WebApplication
from msgraph.generated.service_principals.service_principals_request_builder import ServicePrincipalsRequestBuilder

from foyer.db import session_scope
from foyer.models.directory import Application as ApplicationRow
from foyer.usecases.openid_clients import client_secret_matches
from tests.factories import make_group_and_app
from tests.graph_sdk import graph_client


async def session_get_required(app_id: str) -> bool:
    async with session_scope() as session:
        return (await session.get(ApplicationRow, app_id)).app_role_assignment_required


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

        # The script's usual next steps: the service principal, by appId.
        created = await graph.service_principals.post(ServicePrincipal(app_id=app.app_id))
        query = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
            filter=f"appId eq '{app.app_id}'")
        found = await graph.service_principals.get(request_configuration=ServicePrincipalsRequestBuilder
                                                   .ServicePrincipalsRequestBuilderGetRequestConfiguration(query_parameters=query))
        assert [sp.id for sp in found.value] == [created.id]
        sp = found.value[0]
        assert sp.app_role_assignment_required is True and sp.app_roles[0].value == "Editor"
        await graph.service_principals.by_service_principal_id(sp.id).patch(
            ServicePrincipal(app_role_assignment_required=False))
        assert (await graph.service_principals.by_service_principal_id(sp.id).get()).app_role_assignment_required is False

        assignment = await graph.service_principals.by_service_principal_id(sp.id).app_role_assigned_to.post(
            AppRoleAssignment(principal_id=uuid.UUID(group.id), resource_id=uuid.UUID(sp.id), app_role_id=role_id))
        assert assignment.principal_type == "Group" and assignment.app_role_id == role_id
        listed = await graph.service_principals.by_service_principal_id(sp.id).app_role_assigned_to.get()
        assert [a.id for a in listed.value] == [assignment.id]
        group_side = await graph.groups.by_group_id(group.id).app_role_assignments.get()
        assert [a.id for a in group_side.value] == [assignment.id]

        got = await graph.applications.by_application_id(app.id).get()
        assert [c.key_id for c in got.password_credentials] == [secret.key_id]
        assert got.password_credentials[0].secret_text is None

        async with session_scope() as session:
            stored = (await session.get(ApplicationRow, app.id)).password_credentials
        assert client_secret_matches(secret.secret_text, stored[0]["secretHash"])
        assert (await session_get_required(app.id)) is False

        await graph.applications.by_application_id(app.id).remove_password.post(
            RemovePasswordPostRequestBody(key_id=secret.key_id))
        assert (await graph.applications.by_application_id(app.id).get()).password_credentials == []

        await graph.service_principals.by_service_principal_id(sp.id).app_role_assigned_to.by_app_role_assignment_id(
            assignment.id).delete()
        assert (await graph.groups.by_group_id(group.id).app_role_assignments.get()).value == []
