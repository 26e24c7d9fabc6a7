"""Through the official Graph SDK: a group created with owners@odata.bind, owners added by $ref,
listed and removed, a user's ownedObjects read as groups and applications, and the
authorization policy's guest level and default user role permissions."""

import uuid

from msgraph.generated.models.application import Application
from msgraph.generated.models.authorization_policy import AuthorizationPolicy
from msgraph.generated.models.group import Group
from msgraph.generated.models.reference_create import ReferenceCreate

from foyer.models.enums import Role
from foyer.rules.guest_access import LIMITED, RESTRICTED
from tests.factories import make_group_and_app, make_owner, make_person
from tests.graph_sdk import graph_client

GRAPH = "https://graph.microsoft.com/v1.0"


async def test_owners_through_the_sdk(server, admin, organization_id):
    first, _ = await make_person(organization_id, Role.member, "First SDK Owner")
    second, _ = await make_person(organization_id, Role.member, "Second SDK Owner")
    async with graph_client(server, admin) as graph:
        group = await graph.groups.post(Group(
            display_name=f"SDK owned {uuid.uuid4().hex[:6]}", mail_enabled=False, security_enabled=True,
            mail_nickname="sdkowned", additional_data={"owners@odata.bind": [f"{GRAPH}/users/{first.id}"]}))
        owners = graph.groups.by_group_id(group.id).owners
        await owners.ref.post(ReferenceCreate(odata_id=f"{GRAPH}/directoryObjects/{second.id}"))
        listed = await owners.get()
        assert sorted(o.id for o in listed.value) == sorted([first.id, second.id])
        await owners.by_directory_object_id(second.id).ref.delete()
        assert [o.id for o in (await owners.get()).value] == [first.id]

        owned = await graph.users.by_user_id(first.id).owned_objects.get()
        assert [(type(o), o.id) for o in owned.value] == [(Group, group.id)]


async def test_owned_applications_and_the_policy_through_the_sdk(server, admin, organization_id):
    owner, _ = await make_person(organization_id, Role.member, "App SDK Owner")
    _, app = await make_group_and_app(organization_id, "SDK app")
    await make_owner(app, owner.id)
    async with graph_client(server, admin) as graph:
        owned = await graph.users.by_user_id(owner.id).owned_objects.get()
        assert [(type(o), o.id, o.app_id) for o in owned.value] == [(Application, app.id, app.app_id)]
        app_owners = await graph.applications.by_application_id(app.id).owners.get()
        assert [o.id for o in app_owners.value] == [owner.id]

        policy = await graph.policies.authorization_policy.get()
        assert str(policy.guest_user_role_id) == LIMITED
        assert policy.default_user_role_permissions.allowed_to_create_security_groups is True
        await graph.policies.authorization_policy.patch(AuthorizationPolicy(guest_user_role_id=RESTRICTED))
        assert str((await graph.policies.authorization_policy.get()).guest_user_role_id) == RESTRICTED
