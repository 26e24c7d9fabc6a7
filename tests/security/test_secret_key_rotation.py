"""Rotating FOYER_SECRET_KEY: what was made under the old key (a session cookie, a form's CSRF token,
an emailed passcode, an invitation link, an external system's signed callback) is still accepted
while the old key is listed in FOYER_PREVIOUS_SECRET_KEYS, and refused once it is not. Whatever is
made after the rotation is made with the new key only.

The suite's own key stays the current key ("new"); OLD_KEY plays the key in use before.
"""

import asyncio
import time

import httpx

from foyer.usecases.invitations import redeem_url
from foyer import security, sessions
from foyer.db import session_scope
from foyer.models.invitation import Invitation
from tests.factories import make_user
from tests.portal_support import challenge_in
from tests.support import ask_for_code, invite, link_in, passcode_in, submit_code, unique_email

OLD_KEY = "old-key-before-rotation-3f9b1c7e5a2d4f6b8c0e1a3b5d7f9"


def browser(server: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server, follow_redirects=False, timeout=30)


async def test_session_cookie_and_csrf_token(keys, server, organization_id):
    member = await make_user(organization_id, "Rory Rotated")
    keys(OLD_KEY)
    cookie, _ = sessions.issue(member.id)
    csrf = sessions.csrf_token(cookie, "some-form")

    keys(None, OLD_KEY)
    assert sessions.read(cookie) is not None and sessions.read(cookie).user_id == member.id
    assert sessions.csrf_valid(cookie, "some-form", csrf)
    async with browser(server) as client:
        page = await client.get("/myaccess", cookies={sessions.SESSION_COOKIE: cookie})
    assert page.status_code == 200 and "Rory Rotated" in page.text
    fresh, _ = sessions.issue(member.id)  # new cookies are signed with the new key

    keys(None)
    assert sessions.read(cookie) is None
    assert not sessions.csrf_valid(cookie, "some-form", csrf)
    async with browser(server) as client:
        page = await client.get("/myaccess", cookies={sessions.SESSION_COOKIE: cookie})
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    assert sessions.read(fresh) is not None

    keys(OLD_KEY)
    assert sessions.read(fresh) is None  # it was not signed with the old key


async def test_sign_in_passcode_emailed_before_the_rotation(keys, server, mail, organization_id):
    for listed in (True, False):
        member = await make_user(organization_id, f"Pat Passcode {listed}")
        keys(OLD_KEY)
        async with browser(server) as client:
            asked = await client.post("/signin", data={"email": member.mail, "next": "/myaccess"})
            assert asked.status_code == 200, asked.text
            challenge = challenge_in(asked.text)
            code = passcode_in((await mail.wait_for(member.mail))[0].text)

            keys(None, *([OLD_KEY] if listed else []))
            entered = await client.post("/signin/verify", data={
                "challenge": challenge, "code": code, "email": member.mail, "next": "/myaccess"})
        if listed:
            assert entered.status_code == 303, entered.text
        else:
            assert entered.status_code == 400, entered.text


async def test_invitation_link_sent_before_the_rotation(keys, api, admin, server, mail):
    keys(OLD_KEY)
    email = unique_email()
    created = await invite(api, admin, email)
    old_link = link_in((await mail.wait_for(email))[0].text)
    assert old_link == created["inviteRedeemUrl"]

    keys(None, OLD_KEY)
    async with browser(server) as client:
        assert (await client.get(old_link)).status_code == 200
        # What a reminder mail builds now (redeem_url) uses the new key, and works too.
        async with session_scope() as session:
            row = await session.get(Invitation, created["id"])
        new_link = redeem_url(row.link_id)
        assert new_link != old_link
        assert (await client.get(new_link)).status_code == 200
        # The code is asked on the old link, before the rotation settles; entered on the new one.
        response, challenge = await ask_for_code(client, old_link)
        assert response.status_code == 200 and challenge, response.text[:500]
        code = passcode_in((await mail.wait_for(email, count=2))[-1].text)
        client.cookies.set("foyer_challenge", challenge)
        redeemed = await submit_code(client, new_link, challenge, code)
        assert redeemed.status_code == 303, redeemed.text[:800]


async def test_invitation_link_refused_once_the_old_key_is_retired(keys, api, admin, server, mail):
    keys(OLD_KEY)
    email = unique_email()
    await invite(api, admin, email)
    old_link = link_in((await mail.wait_for(email))[0].text)

    keys(None)
    async with browser(server) as client:
        assert (await client.get(old_link)).status_code == 404
        assert (await client.post(f"{old_link}/passcode", data={"consent": "yes"})).status_code == 404
    keys(None, OLD_KEY)
    async with browser(server) as client:
        assert (await client.get(old_link)).status_code == 200


def test_link_token_keeps_its_shape():
    # Other code calls link_token(link_id) and link_token_hash(token): both stay as they were.
    link_id = security.new_link_id()
    token = security.link_token(link_id)
    assert token.startswith(link_id + ".") and len(token.split(".")[1]) == 32
    assert security.link_token_hash(token) == security.sha256(token)


async def test_callback_signed_with_the_secret_derived_from_the_old_key(keys, api, organization_id):
    """The external system still signs with the foyerSigningSecret it was given before the
    rotation: accepted while the old key is listed. The body's decision is invalid on purpose: a
    callback whose signature is accepted is answered 400 (bad decision), a refused one 401."""
    from tests.connector_server import connector_server
    from tests.sign_up_support import callback
    from tests.factories import make_flow

    async with connector_server() as connectors:
        system = await connectors.connector(organization_id)
    flow_id = await make_flow(organization_id, approval={
        "approverIds": [], "apiConnectorId": system, "timeout": "P7D"})
    sign_up_id = await pending_sign_up(organization_id, flow_id)
    undecided = {"decision": "maybe"}

    keys(OLD_KEY)
    old_secret = security.connector_secret(system)
    keys(None, OLD_KEY)
    assert security.connector_secret(system) != old_secret  # the secret handed out now is new
    accepted = await callback(api, sign_up_id, "approval", undecided, system, secret=old_secret)
    assert accepted.status_code == 400, accepted.text
    keys(None)
    refused = await callback(api, sign_up_id, "approval", undecided, system, secret=old_secret)
    assert refused.status_code == 401, refused.text
    current = await callback(api, sign_up_id, "approval", undecided, system)
    assert current.status_code == 400, current.text


async def pending_sign_up(organization_id: str, flow_id: str) -> str:
    from foyer.models.base import new_id
    from foyer.models.sign_up import SignUp

    sign_up_id = new_id()
    async with session_scope() as session:
        session.add(SignUp(id=sign_up_id, organization_id=organization_id, user_flow_id=flow_id,
                           email=unique_email(), workflow_id=f"signup:{sign_up_id}",
                           state="pendingApproval"))
    return sign_up_id


def test_extension_callback_signed_with_the_old_key(keys):
    body = b'{"data": {}}'
    now = time.time()
    keys(OLD_KEY)
    old = security.sign(security.extension_secret("ext-1"), int(now), body)
    keys(None, OLD_KEY)
    assert security.signature_valid(security.extension_secrets("ext-1"), old, body, now)
    assert not security.signature_valid(security.extension_secret("ext-1"), old, body, now)  # new only
    keys(None)
    assert not security.signature_valid(security.extension_secrets("ext-1"), old, body, now)


async def test_extension_resume_signed_with_the_secret_derived_from_the_old_key(
        keys, api, admin, server, temporal, organization_id):
    """The extension's receiver was given its foyerSigningSecret before the rotation and keeps
    signing its resume callbacks with it."""
    from foyer.workflows.client import access_requests
    from tests.factories import request
    from tests.extension_receiver import ExtensionReceiver, resume
    from tests.test_custom_extension_resume import configure

    async with ExtensionReceiver() as receiver:
        keys(OLD_KEY)
        package, policy, extension = await configure(api, admin, organization_id, receiver)
        guests = [await make_user(organization_id, name, guest=True) for name in ("Lee Listed", "Una Unlisted")]
        for guest in guests:
            await access_requests.submit_request(temporal.client, request(organization_id, package, policy, guest))
        listed, unlisted = [await created_event(receiver, guest.id) for guest in guests]
        assert receiver.bad_signatures == 0  # Foyer's own calls were signed with the old key's secret

        keys(None, OLD_KEY)
        accepted = await resume(server, listed, "approve", receiver.secret)
        assert accepted.status_code == 204, accepted.text
        keys(None)
        refused = await resume(server, unlisted, "approve", receiver.secret)
        assert refused.status_code == 401, refused.text


async def created_event(receiver, target_id: str, timeout: float = 30) -> dict:
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in receiver.events:
            if event["data"]["stage"] == "assignmentRequestCreated" and event["data"]["targetId"] == target_id:
                return event
        await asyncio.sleep(0.05)
    raise AssertionError(f"no assignmentRequestCreated event for {target_id}")


def test_outgoing_signature_carries_one_v1_per_accepted_key(keys):
    """Foyer signs its own calls with the secret under the current key and, while old keys are
    listed, under each of them too (one `v1` each): a receiver holding either secret verifies."""
    body = b'{"type": "event"}'
    now = int(time.time())
    keys(OLD_KEY)
    old_secret = security.connector_secret("conn-1")
    keys(None, OLD_KEY)
    header = security.sign(security.connector_secrets("conn-1"), now, body)
    assert header.count("v1=") == 2
    assert security.signature_valid(old_secret, header, body, now)
    assert security.signature_valid(security.connector_secret("conn-1"), header, body, now)
    keys(None)
    header = security.sign(security.connector_secrets("conn-1"), now, body)
    assert header.count("v1=") == 1
    assert not security.signature_valid(old_secret, header, body, now)


async def test_receiver_holding_the_old_secret_verifies_foyers_calls_until_the_key_is_retired(
        keys, api, admin, server, temporal, organization_id):
    """The extension's receiver keeps the foyerSigningSecret it was given before the rotation: it
    verifies Foyer's callouts made after the rotation while the old key is listed, and stops
    verifying them once the old key is retired (it must then be given the new secret)."""
    from foyer.workflows.client import access_requests
    from tests.factories import request
    from tests.extension_receiver import ExtensionReceiver
    from tests.test_custom_extension_resume import configure

    async with ExtensionReceiver() as receiver:
        keys(OLD_KEY)
        package, policy, _ = await configure(api, admin, organization_id, receiver)
        keys(None, OLD_KEY)
        listed = await make_user(organization_id, "Vic Verified", guest=True)
        await access_requests.submit_request(temporal.client, request(organization_id, package, policy, listed))
        await created_event(receiver, listed.id)
        assert receiver.bad_signatures == 0

        keys(None)
        retired = await make_user(organization_id, "Ray Retired", guest=True)
        await access_requests.submit_request(temporal.client, request(organization_id, package, policy, retired))
        deadline = time.monotonic() + 30
        while receiver.bad_signatures == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert receiver.bad_signatures >= 1
        assert all(event["data"]["targetId"] != retired.id for event in receiver.events)


async def test_operator_prints_the_new_signing_secret_after_a_rotation(keys, organization_id, capsys):
    """Create shows a foyerSigningSecret once; a rotation changes it. `foyer signing-secret`
    prints the one under the current key, for the operator to hand to the external system."""
    from foyer.cli import main
    from tests.connector_server import connector_server

    async with connector_server() as connectors:
        connector_id = await connectors.connector(organization_id)
    keys(OLD_KEY)
    old = security.connector_secret(connector_id)
    keys(None, OLD_KEY)
    assert main(["signing-secret", "--connector", connector_id]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == security.connector_secret(connector_id) and printed != old
    assert main(["signing-secret", "--extension", "no-such-extension"]) == 1
    assert "no custom extension" in capsys.readouterr().err
