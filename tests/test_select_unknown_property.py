"""`$select` naming a property the resource does not have is a 400 Graph error, also when the page
is empty (Graph checks the name against the type, not against the rows it found)."""

import pytest

EM = "/v1.0/identityGovernance/entitlementManagement"


@pytest.mark.parametrize("path", [
    "/v1.0/groups?$filter=displayName eq 'no such group anywhere'",
    "/v1.0/users?$filter=displayName eq 'no such user anywhere'",
    f"{EM}/assignmentRequests?$filter=state eq 'no-such-state'",
    f"{EM}/assignments?$filter=state eq 'no-such-state'",
])
async def test_unknown_select_on_an_empty_page_is_400(api, admin, path):
    empty = await api.get(path, headers=admin)
    assert empty.status_code == 200, empty.text
    assert empty.json()["value"] == []
    response = await api.get(f"{path}&$select=nothing", headers=admin)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] and "nothing" in error["message"]


async def test_known_select_names_pass_on_an_empty_page(api, admin):
    response = await api.get("/v1.0/groups?$filter=displayName eq 'no such group anywhere'&$select=id,displayName",
                             headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["value"] == []
