"""Through the official Graph SDK: an admin invites a guest, and finds them in the user list with
`$filter` (and pages through the guests with `$top` and the SDK's `@odata.nextLink`)."""

import uuid

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.invitation import Invitation
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from tests.graph_sdk import graph_client


def users_query(**parameters) -> RequestConfiguration:
    return RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        **parameters))


async def test_invited_guest_is_listed_with_a_filter(server, admin):
    handle = uuid.uuid4().hex[:10]
    email = f"sdk.guest.{handle}@fabrikam.example"
    async with graph_client(server, admin) as graph:
        invitation = await graph.invitations.post(Invitation(
            invited_user_email_address=email, invite_redirect_url="https://app.contoso.test/home",
            invited_user_display_name="Sam SDK", send_invitation_message=False))
        assert invitation.status == "PendingAcceptance"
        assert invitation.invite_redeem_url.startswith(server)
        assert invitation.invited_user.id and invitation.invited_user_email_address == email

        found = await graph.users.get(users_query(filter=f"mail eq '{email}'"))
        [guest] = found.value
        assert guest.id == invitation.invited_user.id and guest.display_name == "Sam SDK"
        assert guest.user_type == "Guest" and guest.external_user_state == "PendingAcceptance"
        assert guest.creation_type == "Invitation" and guest.account_enabled is True
        assert guest.user_principal_name == email.replace("@", "_") + "#EXT#@contoso.test"
        assert guest.created_date_time is not None
        assert guest.identities == []  # a guest's sign-in identity comes with redemption

        same = await graph.users.by_user_id(guest.id).get()
        assert same.mail == email and same.external_user_state_change_date_time is not None

        # A second guest; both come back one page at a time, the SDK following @odata.nextLink.
        other = f"sdk.guest.{handle}.2@fabrikam.example"
        await graph.invitations.post(Invitation(invited_user_email_address=other,
                                                invite_redirect_url="https://app.contoso.test/home"))
        page = await graph.users.get(users_query(
            filter=f"userType eq 'Guest' and startswith(mail, 'sdk.guest.{handle}')",
            top=1, select=["id", "mail"], orderby=["mail"]))
        seen = []
        while True:
            assert len(page.value) == 1
            seen.append(page.value[0].mail)
            if not page.odata_next_link:
                break
            page = await graph.users.with_url(page.odata_next_link).get()
        assert seen == sorted([email, other])
