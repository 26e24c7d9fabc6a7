"""The campaign page in a real browser: an administrator (a signed-in user with an admin API token
of their own) watches a small campaign's progress bar reach 100% without reloading, downloads the
results CSV, and pauses, resumes and cancels a slow one (30 invitations a minute). Members
without an admin token, and visitors not signed in, get nothing."""

import pytest
import asyncio
import csv
import io
import uuid
from pathlib import Path

import httpx
from sqlmodel import select

from foyer import sessions
from foyer.db import session_scope
from foyer.models.campaign import Campaign
from foyer.models.enums import Role
from foyer.models.token import ApiToken
from tests.browser import chromium_page
from tests.factories import make_user
from tests.portal_support import sign_in
from tests.support import passcode_in

pytestmark = pytest.mark.long_running(21)

SHOTS = Path(__file__).resolve().parent.parent / ".foyer" / "screenshots"


async def start_campaign(server: str, headers: dict, count: int, **options) -> dict:
    domain = f"page-{uuid.uuid4().hex[:6]}.example"
    rows = [{"invitedUserEmailAddress": f"guest{i:02d}@{domain}", "inviteRedirectUrl": "https://app.contoso.test/",
             "sendInvitationMessage": True} for i in range(count)]
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        response = await client.post("/v1.0/invitationCampaigns", headers=headers,
                                     json={"rows": rows, **options})
    assert response.status_code == 201, response.text
    return response.json()


async def db_state(campaign_id: str) -> str:
    async with session_scope() as session:
        return (await session.get(Campaign, campaign_id)).state


async def wait_db_state(campaign_id: str, wanted: str, timeout: float = 90) -> None:
    for _ in range(int(timeout / 0.2)):
        if await db_state(campaign_id) == wanted:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"campaign {campaign_id} is still {await db_state(campaign_id)}, not {wanted}")


async def test_admin_watches_and_steers_campaigns_in_chromium(server, mail, make_token, organization_id):
    ada = await make_user(organization_id, "Ada Admin")
    headers = await make_token(Role.global_administrator, user_id=ada.id, name="Ada's admin token")
    small = await start_campaign(server, headers, 12, displayName="Northwind partners", concurrency=3)
    SHOTS.mkdir(parents=True, exist_ok=True)

    async with chromium_page() as page:
        link = f"{server}/campaigns/{small['id']}"
        await page.goto(link)
        assert "/signin?next=" in page.url
        await page.fill("#email", ada.mail)
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        code = passcode_in((await mail.wait_for(ada.mail))[0].text)
        await page.fill("#code", code)
        await page.click("#verify")
        await page.wait_for_url(link)

        assert await page.inner_text("#campaign-name") == "Northwind partners"
        # The bar fills as the page polls (it may already be full on a fast machine).
        await page.wait_for_function(
            "() => { const p = document.getElementById('progress'); return p.value === p.max && p.max === 12; }",
            timeout=60_000)
        await page.wait_for_selector("#campaign-state[data-state=completed]", timeout=30_000)
        assert "12 of 12 rows done (100%)" in await page.inner_text("#progress-text")
        assert await page.inner_text("#count-invited") == "12"
        assert await page.inner_text("#count-failed") == "0"
        assert not await page.is_visible("#pause") and not await page.is_visible("#cancel")
        await page.screenshot(path=str(SHOTS / "campaign.png"), full_page=True)

        # The results link streams the API's CSV, with the page's session.
        results = await page.request.get(server + await page.get_attribute("#results", "href"))
        assert results.ok and results.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(await results.text())))
        assert len(table) == 12 and {r["result"] for r in table} == {"invited"}

        # A slow campaign: 30 invitations a minute, one at a time.
        slow = await start_campaign(server, headers, 45, displayName="Slow partners", ratePerMinute=30,
                                    concurrency=1)
        await page.goto(f"{server}/campaigns/{slow['id']}")
        await page.wait_for_selector("#campaign-state[data-state=running]")
        await page.click("#pause")
        await page.wait_for_selector("#notice")
        assert "Paused" in await page.inner_text("#notice")
        await page.wait_for_selector("#campaign-state[data-state=paused]", timeout=15_000)
        assert await page.is_visible("#resume") and not await page.is_visible("#pause")
        await wait_db_state(slow["id"], "paused", timeout=5)
        paused_at = int(await page.inner_text("#count-invited"))
        await asyncio.sleep(2)
        assert int(await page.inner_text("#count-invited")) <= paused_at + 1  # one row may have been in flight
        await page.screenshot(path=str(SHOTS / "campaign-paused.png"), full_page=True)

        # Resumed elsewhere (the API): the open page follows without a reload.
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            resumed = await client.post(f"/v1.0/invitationCampaigns/{slow['id']}/resume", headers=headers)
        assert resumed.status_code == 202
        await page.wait_for_selector("#campaign-state[data-state=running]", timeout=15_000)
        assert await page.is_visible("#pause") and not await page.is_visible("#resume")

        page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await page.click("#cancel")
        await page.wait_for_selector("#notice")
        assert "Canceled" in await page.inner_text("#notice")
        # The rows already started finish; the rest are canceled (after the current rate
        # window, if the workflow is waiting for one).
        await page.wait_for_selector("#campaign-state[data-state=canceled]", timeout=90_000)
        canceled = int(await page.inner_text("#count-canceled"))
        invited = int(await page.inner_text("#count-invited"))
        assert canceled > 0 and invited + canceled == 45
        assert "45 of 45 rows done (100%)" in await page.inner_text("#progress-text")
        assert not await page.is_visible("#cancel")
    assert await db_state(slow["id"]) == "canceled"


async def test_only_admins_reach_the_campaign_page(server, mail, make_token, organization_id):
    ada = await make_user(organization_id, "Ada Admin")
    headers = await make_token(Role.global_administrator, user_id=ada.id)
    campaign = await start_campaign(server, headers, 1)
    mia = await make_user(organization_id, "Mia Member")
    await make_token(Role.guest_inviter, user_id=mia.id)  # a token, but not an admin role
    await make_token(Role.user_administrator, user_id=mia.id, name="revoked")
    async with session_scope() as session:  # an admin token, but revoked
        revoked = (await session.exec(select(ApiToken).where(ApiToken.user_id == mia.id,
                                                             ApiToken.name == "revoked"))).one()
        revoked.revoked = True
        session.add(revoked)
    base = f"/campaigns/{campaign['id']}"

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        for path in (base, f"{base}/progress", f"{base}/results.csv"):
            response = await client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/signin?next=")
        # The bearer API's token does not open the pages either.
        assert (await client.get(base, headers=headers)).status_code == 303

        await sign_in(client, mail, mia.mail, next=base)
        page = await client.get(base)
        assert page.status_code == 403 and "Administrators only" in page.text
        assert (await client.get(f"{base}/progress")).status_code == 403
        assert (await client.get(f"{base}/results.csv")).status_code == 403
        token = sessions.csrf_token(client.cookies.get("foyer_session"), f"campaign-cancel:{campaign['id']}")
        assert (await client.post(f"{base}/cancel", data={"csrf": token})).status_code == 403

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, ada.mail, next=base)
        shown = await client.get(base)
        assert shown.status_code == 200 and 'id="progress"' in shown.text
        # A form without its CSRF token changes nothing; a missing campaign is a 404.
        refused = await client.post(f"{base}/cancel", data={"csrf": "forged"})
        assert refused.status_code == 403 and "expired" in refused.text
        assert (await client.get(f"/campaigns/{uuid.uuid4()}")).status_code == 404
        assert (await client.get(f"/campaigns/{uuid.uuid4()}/progress")).status_code == 404


async def test_an_ended_campaign_cannot_be_steered_from_the_page(server, mail, make_token, organization_id):
    """The page refuses as the API does (foyer.usecases.campaigns.refuse_ended): a completed
    campaign is neither paused nor canceled, and the page says so; the CSV still downloads."""
    ada = await make_user(organization_id, "Ada Admin")
    headers = await make_token(Role.global_administrator, user_id=ada.id)
    campaign = await start_campaign(server, headers, 1)
    await wait_db_state(campaign["id"], "completed")
    base = f"/campaigns/{campaign['id']}"
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        await sign_in(client, mail, ada.mail, next=base)
        for action in ("pause", "cancel"):
            token = sessions.csrf_token(client.cookies.get("foyer_session"), f"campaign-{action}:{campaign['id']}")
            answer = await client.post(f"{base}/{action}", data={"csrf": token})
            assert answer.status_code == 303 and answer.headers["location"] == f"{base}?error=campaignEnded", \
                (answer.status_code, answer.headers.get("location"))
            shown = await client.get(answer.headers["location"])
            assert shown.status_code == 200 and "already ended. Nothing was changed." in shown.text
        assert await db_state(campaign["id"]) == "completed"
        results = await client.get(f"{base}/results.csv")
        assert results.status_code == 200 and results.headers["content-type"].startswith("text/csv")
        assert results.headers["content-disposition"] == f'attachment; filename="campaign-{campaign["id"]}-results.csv"'
        assert [r["result"] for r in csv.DictReader(io.StringIO(results.text))] == ["invited"]
