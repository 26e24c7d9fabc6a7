"""A request to join nobody answers expires, under time skipping: pending (its status query says
so) until its expires_after (P14D by default) has passed, then expired — the row marked, the
person not added, an audit record — and a decision sent afterwards is refused."""

from datetime import timedelta

import pytest

from foyer.errors import Refused
from foyer.workflows.client import group_join_requests
from foyer.workflows.group_join_request import GroupJoinRequestWorkflow
from foyer.workflows.messages.group_join import JoinDecision, group_join_workflow_id
from tests.factories import make_user
from tests.owner_support import audited, members_of, owned_group, request_rows, switches  # noqa: F401


async def test_an_unanswered_request_expires(time_env, organization_id, switches):  # noqa: F811
    await switches(owners_can_manage_join_requests=True)
    owner = await make_user(organization_id, "Eve Elsewhere")
    asker = await make_user(organization_id, "Wes Waiting")
    group = await owned_group(organization_id, owner, "Partners")
    client = time_env.client

    opened = await group_join_requests.request_to_join(client, organization_id, group.id, asker.id, "please")
    assert opened.state == "pending"
    workflow_id = group_join_workflow_id(group.id, asker.id)
    await time_env.sleep(timedelta(days=13))
    assert (await group_join_requests.status(client, workflow_id)).state == "pending"

    await time_env.sleep(timedelta(days=2))
    result = await client.get_workflow_handle_for(GroupJoinRequestWorkflow.run, workflow_id).result()
    assert result.state == "expired"
    [row] = await request_rows(group.id)
    assert row.state == "expired" and row.decided_by_id is None
    assert asker.id not in await members_of(group.id)
    assert len(await audited(group.id, "Request to join group expired")) == 1

    with pytest.raises(Refused) as refused:
        await group_join_requests.decide(client, workflow_id, JoinDecision(decision="approve", decided_by_id=owner.id))
    assert refused.value.code == "requestNotPending"
