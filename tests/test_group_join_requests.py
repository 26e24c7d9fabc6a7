"""Requests to join a group in My Groups: off by default (no offers, a forged request refused);
switched on (owners_can_manage_join_requests), a member asks to join a group that has an owner,
the owner sees the request and approves it (the member is added, audited as the owner acting on
the request) or denies it (nothing added); a member who does not own the group cannot decide;
asking twice while a request is open answers with the open one."""

import re

import httpx
from tests.factories import make_user
from tests.owner_support import audited, form_token, members_of, owned_group, request_rows, switches  # noqa: F401
from tests.portal_support import csrf_in, sign_in


async def ask_to_join(client, group_id: str, why: str = "I work on it") -> httpx.Response:
    html = (await client.get("/mygroups")).text
    return await client.post(f"/mygroups/{group_id}/join", data={
        "csrf": csrf_in(html, f"/mygroups/{group_id}/join"), "justification": why})


async def test_off_by_default(server, mail, organization_id):
    member = await make_user(organization_id, "Pat Patient")
    group = await owned_group(organization_id, await make_user(organization_id, "Oli Owner"), "Partners")
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, member.mail, next="/mygroups")
        html = (await client.get("/mygroups")).text
        assert 'id="offers"' not in html and f'id="join-{group.id}"' not in html
        # Posted anyway, with a good token: the switch refuses it.
        refused = await client.post(f"/mygroups/{group.id}/join", data={"csrf": form_token(client, "mygroups:join")})
        assert refused.status_code == 403 and "do not manage requests to join" in refused.text
    assert await request_rows(group.id) == []


async def test_approve_and_deny(server, mail, organization_id, switches):  # noqa: F811
    await switches(owners_can_manage_join_requests=True)
    owner = await make_user(organization_id, "Oda Owner")
    asker = await make_user(organization_id, "Ari Asker")
    other = await make_user(organization_id, "Dee Denied")
    group = await owned_group(organization_id, owner, "Partners", members=[owner])

    for person in (asker, other):
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            await sign_in(client, mail, person.mail, next="/mygroups")
            assert f'id="offer-{group.id}"' in (await client.get("/mygroups")).text
            asked = await ask_to_join(client, group.id)
            assert asked.status_code == 200 and "You asked to join" in asked.text, asked.text
            assert f'id="asked-{group.id}"' in asked.text
            if person is asker:  # again while it is open: the open one
                again = await client.post(f"/mygroups/{group.id}/join",
                                          data={"csrf": form_token(client, "mygroups:join")})
                assert again.status_code == 409 and "already asked" in again.text
    first, second = await request_rows(group.id)
    assert (first.user_id, first.state, first.justification) == (asker.id, "pending", "I work on it")

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, owner.mail, next="/mygroups")
        html = (await client.get("/mygroups")).text
        assert f'id="request-{first.id}"' in html and f'id="request-{second.id}"' in html
        token = csrf_in(html, f"/mygroups/requests/{first.id}/decide")
        approved = await client.post(f"/mygroups/requests/{first.id}/decide",
                                     data={"csrf": token, "decision": "approve"})
        assert approved.status_code == 200 and "Request approved" in approved.text, approved.text
        assert re.search(rf'id="member-{group.id}-{asker.id}"', approved.text)
        denied = await client.post(f"/mygroups/requests/{second.id}/decide", data={"csrf": token, "decision": "deny"})
        assert denied.status_code == 200 and "Request denied" in denied.text
        late = await client.post(f"/mygroups/requests/{second.id}/decide", data={"csrf": token, "decision": "approve"})
        assert late.status_code == 409

    assert await members_of(group.id) == {owner.id, asker.id}
    first, second = await request_rows(group.id)
    assert (first.state, first.decided_by_id, second.state) == ("approved", owner.id, "denied")
    [added] = await audited(group.id, "Add member to group")
    assert added.initiated_by_id == owner.id and added.details["actingAs"] == "owner"
    assert len(await audited(group.id, "Deny request to join group")) == 1


async def test_a_member_who_does_not_own_the_group_cannot_decide(server, mail, organization_id,
                                                                 switches):  # noqa: F811
    await switches(owners_can_manage_join_requests=True)
    owner = await make_user(organization_id, "Ona Owner")
    asker = await make_user(organization_id, "Abe Asker")
    bystander = await make_user(organization_id, "Bo Bystander")
    group = await owned_group(organization_id, owner, "Partners", members=[bystander])
    await owned_group(organization_id, bystander, "Own")  # an owner, of another group
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, asker.mail, next="/mygroups")
        assert (await ask_to_join(client, group.id)).status_code == 200
    [row] = await request_rows(group.id)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, bystander.mail, next="/mygroups")
        html = (await client.get("/mygroups")).text
        assert f'id="request-{row.id}"' not in html
        token = form_token(client, "mygroups:decide")
        refused = await client.post(f"/mygroups/requests/{row.id}/decide", data={"csrf": token, "decision": "approve"})
        assert refused.status_code == 403 and "Only an administrator or an owner" in refused.text
    [row] = await request_rows(group.id)
    assert row.state == "pending" and asker.id not in await members_of(group.id)
