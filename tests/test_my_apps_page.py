"""My Apps (/myapps): a signed-in guest sees the apps they may open — assigned directly or through
a group — each linked to its home page, or "no sign-in link" without one; not the apps they are
not assigned to. Not signed in: the sign-in page, back to /myapps. My Access links to it."""

import re
import uuid
from urllib.parse import unquote

import httpx

from foyer.db import session_scope
from foyer.models.directory import GroupMember
from tests.factories import make_group_and_app, make_user
from tests.portal_support import sign_in


async def test_a_guest_sees_their_apps(server, mail, api, admin, organization_id):
    guest = await make_user(organization_id, "Gwen Guest", guest=True)
    tag = uuid.uuid4().hex[:6]
    direct = (await api.post("/v1.0/applications", headers=admin, json={
        "displayName": f"Wiki {tag}", "web": {"homePageUrl": "https://wiki.example/start"}})).json()
    linkless = (await api.post("/v1.0/applications", headers=admin, json={"displayName": f"Batch {tag}"})).json()
    through_group = (await api.post("/v1.0/applications", headers=admin, json={
        "displayName": f"Tracker {tag}", "web": {"homePageUrl": "https://tracker.example/"}})).json()
    not_mine = (await api.post("/v1.0/applications", headers=admin, json={
        "displayName": f"Payroll {tag}", "web": {"homePageUrl": "https://payroll.example/"}})).json()
    group, _ = await make_group_and_app(organization_id, "Partners")
    async with session_scope() as session:
        session.add(GroupMember(group_id=group.id, user_id=guest.id))
    for app, principal in ((direct, guest.id), (linkless, guest.id), (through_group, group.id)):
        assigned = await api.post(f"/v1.0/applications/{app['id']}/appRoleAssignedTo", headers=admin,
                                  json={"principalId": principal})
        assert assigned.status_code == 201, assigned.text

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        away = await client.get("/myapps")
        assert away.status_code == 303 and unquote(away.headers["location"]) == "/signin?next=/myapps"
        landed = await sign_in(client, mail, guest.mail, next="/myapps")
        assert landed.headers["location"] == "/myapps"
        html = (await client.get("/myapps")).text

        names = re.findall(r'<div class="card" id="app-([^"]+)"', html)
        assert names == [linkless["id"], through_group["id"], direct["id"]]  # by display name
        assert f'<a href="https://wiki.example/start" id="open-{direct["id"]}"' in html
        assert f'<a href="https://tracker.example/" id="open-{through_group["id"]}"' in html
        assert f'id="no-link-{linkless["id"]}"' in html and "No sign-in link" in html
        assert f'id="open-{linkless["id"]}"' not in html
        assert not_mine["displayName"] not in html and 'id="no-apps"' not in html

        my_access = (await client.get("/myaccess")).text
        assert 'href="/myapps" id="to-myapps"' in my_access and 'id="nav-myapps"' in my_access


async def test_a_guest_with_no_apps_is_told_so(server, mail, organization_id):
    guest = await make_user(organization_id, "Nia Noapps", guest=True)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, guest.mail, next="/myapps")
        page = await client.get("/myapps")
    assert page.status_code == 200 and 'id="no-apps"' in page.text and 'class="card"' not in page.text


async def test_a_direct_link_to_one_app(server, mail, api, admin, organization_id):
    """/myapps/{id or appId}: what an invitation's inviteRedirectUrl can carry to share one app."""
    guest = await make_user(organization_id, "Dora Direct", guest=True)
    tag = uuid.uuid4().hex[:6]
    shared = (await api.post("/v1.0/applications", headers=admin, json={
        "displayName": f"Wiki {tag}", "web": {"homePageUrl": "https://wiki.example/start"}})).json()
    linkless = (await api.post("/v1.0/applications", headers=admin, json={"displayName": f"Batch {tag}"})).json()
    other = (await api.post("/v1.0/applications", headers=admin, json={
        "displayName": f"Payroll {tag}", "web": {"homePageUrl": "https://payroll.example/"}})).json()
    for app in (shared, linkless):
        assert (await api.post(f"/v1.0/applications/{app['id']}/appRoleAssignedTo", headers=admin,
                               json={"principalId": guest.id})).status_code == 201

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        away = await client.get(f"/myapps/{shared['appId']}")
        assert away.status_code == 303 and unquote(away.headers["location"]) == f"/signin?next=/myapps/{shared['appId']}"
        await sign_in(client, mail, guest.mail, next=f"/myapps/{shared['appId']}")
        for key in (shared["appId"], shared["id"]):
            opened = await client.get(f"/myapps/{key}")
            assert opened.status_code == 303 and opened.headers["location"] == "https://wiki.example/start"
        refused = await client.get(f"/myapps/{other['id']}")
        assert refused.status_code == 403 and "not assigned" in refused.text
        assert "payroll.example" not in refused.text
        no_link = await client.get(f"/myapps/{linkless['id']}")
        assert no_link.status_code == 200 and "No sign-in link" in no_link.text
        assert (await client.get(f"/myapps/{uuid.uuid4()}")).status_code == 404
