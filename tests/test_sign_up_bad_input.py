"""Bad input anywhere in self-service sign-up answers a Graph error 4xx (never a 500), or the page
again with the field's error: unknown flow pages, a malformed address or code, wrong int64 and
select values in the form, bad bodies and signatures on the verification and approval callbacks,
bad bodies to approve/deny, an unknown sign-up id, a decision on a sign-up that is not waiting
for one. A rejected callback body is not remembered: the same system's good callback still acts."""

import json
import time

import httpx

from foyer.security import SIGNATURE_HEADER, connector_secret, sign
from tests.connector_server import connector_server
from tests.sign_up_support import (
    ask_code, callback, result_state, sign_up_row, submit_attributes, through_code,
)
from tests.factories import LOYALTY, make_flow
from tests.support import find_user, unique_email, until

SIGN_UPS = "/v1.0/identity/signUps"


def graph_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code, error


async def test_pages_refuse_bad_input_with_the_page_again(server, mail, organization_id):
    flow_id = await make_flow(organization_id)
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        for method, path in (("GET", "/signup/B2X_1_nope"), ("POST", "/signup/B2X_1_nope"),
                             ("POST", "/signup/B2X_1_nope/verify"), ("POST", "/signup/B2X_1_nope/attributes"),
                             ("GET", "/signup/B2X_1_nope/status")):
            missing = await client.request(method, path, data={"email": "x@fabrikam.test"} if method == "POST" else None)
            assert missing.status_code == 404, (path, missing.status_code)
            assert "This sign-up page does not exist" in missing.text

        bad_address = await ask_code(client, flow_id, "not an address")
        assert bad_address.status_code == 400 and "Enter your email address." in bad_address.text

        email = unique_email()
        response = await ask_code(client, flow_id, email)
        sign_up_id = response.text.split('name="sign_up_id" value="')[1].split('"')[0]
        letters = await client.post(f"/signup/{flow_id}/verify",
                                    data={"sign_up_id": sign_up_id, "code": "abcdefgh", "email": email})
        assert letters.status_code == 400 and "Enter the 8 digits from the email." in letters.text
        async with httpx.AsyncClient(base_url=server, timeout=30) as other_browser:
            stranger = await other_browser.post(f"/signup/{flow_id}/verify", data={
                "sign_up_id": sign_up_id, "code": "12345678", "email": email})
        assert stranger.status_code == 400 and "was not found in this browser" in stranger.text

    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        sign_up_id, form = await through_code(client, mail, flow_id, email := unique_email())
        assert 'id="attributes-form"' in form.text
        for wrong, message in (("12.5", "must be a whole number"), ("99999999999999999999", "out of range"),
                               ("forty-two", "must be a whole number")):
            page = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Bea Bad",
                                           country="SE", **{LOYALTY: wrong})
            assert page.status_code == 400, page.text[:800]
            assert 'id="attributes-form"' in page.text
            assert 'id="error-country"' in page.text and "from the list" in page.text
            assert f'id="error-{LOYALTY}"' in page.text and message in page.text
            assert 'id="error-displayName"' not in page.text
            assert 'value="Bea Bad"' in page.text  # what the person typed is kept
        async with httpx.AsyncClient(base_url=server, timeout=30) as other_browser:
            lost = await other_browser.post(f"/signup/{flow_id}/attributes", data={
                "sign_up_id": sign_up_id, "email": email, "displayName": "Bea", "country": "NO"})
        assert lost.status_code == 400 and "was not found in this browser" in lost.text
        assert (await sign_up_row(email)).state == "collectingAttributes"
        ok = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Bea Bad", country="NO",
                                     **{LOYALTY: "-7"})
        assert ok.status_code == 200 and result_state(ok.text) == "completed", ok.text[:800]
    assert (await find_user(email)).custom_attributes[LOYALTY] == -7


async def test_api_and_callbacks_refuse_bad_input_with_graph_errors(server, api, admin, mail, organization_id):
    async with connector_server() as connectors:
        verifier = await connectors.connector(organization_id)
        system = await connectors.connector(organization_id)
        connectors.reply({"action": "Pending", "reference": "idv-9"}, status=202, step="identityVerification")
        connectors.reply({"action": "Pending", "reference": "ticket-9"}, status=202, step="approvalRequested")
        flow_id = await make_flow(organization_id, identity_verification={"apiConnectorId": verifier},
                                  approval={"approverIds": [], "apiConnectorId": system, "timeout": "P7D"})
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            sign_up_id, _ = await through_code(client, mail, flow_id, email)
            page = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Cal Back",
                                           country="KE")
        assert result_state(page.text) == "verifying", page.text[:800]

        # Not authenticated: unknown sign-up, no signature, a malformed one, no connector header.
        graph_error(await callback(api, "no-such-sign-up", "verification", {"outcome": "verified"}, verifier),
                    401, "InvalidAuthenticationToken")
        raw = b'{"outcome": "verified"}'
        for headers in ({"X-Foyer-Connector": verifier},
                        {"X-Foyer-Connector": verifier, SIGNATURE_HEADER: "nonsense"},
                        {"X-Foyer-Connector": verifier, SIGNATURE_HEADER: "t=abc,v1=zz"},
                        {SIGNATURE_HEADER: sign(connector_secret(verifier), int(time.time()), raw)}):
            graph_error(await api.post(f"{SIGN_UPS}/{sign_up_id}/verification", content=raw,
                                       headers={"content-type": "application/json", **headers}), 401)

        # Authenticated, but the body is wrong: 400, and nothing is remembered.
        for body in (b"not json", b"[1, 2]", b"{}", b'{"outcome": "maybe"}',
                     b'{"outcome": "verified", "message": 5}', b'{"outcome": "failed", "reference": ["x"]}',
                     json.dumps({"outcome": "failed", "message": "x" * 2000}).encode()):
            graph_error(await callback(api, sign_up_id, "verification", {}, verifier, raw=body), 400,
                        "invalidRequest")
        for body in (b"", b"<decision>approve</decision>", b'"approve"', b'{"decision": "maybe"}',
                     b'{"decision": "approve", "reason": 7}'):
            graph_error(await callback(api, sign_up_id, "approval", {}, system, raw=body), 400, "invalidRequest")
        # A well-formed decision before the sign-up waits for one.
        graph_error(await callback(api, sign_up_id, "approval", {"decision": "approve"}, system), 409,
                    "signUpNotPending")
        assert (await sign_up_row(email)).state == "verifying"

        verified = await callback(api, sign_up_id, "verification", {"outcome": "verified", "reference": "idv-9"},
                                  verifier)
        assert verified.status_code == 200, verified.text
        await until(lambda: sign_up_row(email), lambda r: r.state == "pendingApproval")

        # approve / deny by a person: unknown id, bad bodies, a filter Foyer does not support.
        graph_error(await api.get(f"{SIGN_UPS}/no-such-sign-up", headers=admin), 404, "Request_ResourceNotFound")
        graph_error(await api.post(f"{SIGN_UPS}/no-such-sign-up/approve", headers=admin), 404)
        graph_error(await api.get(f"{SIGN_UPS}?$filter=startswith(email, 'a')", headers=admin), 400)
        for verb in ("approve", "deny"):
            for body in (b"not json", b'{"reason": 5}', b'["a reason"]', b'"a reason"',
                         json.dumps({"reason": "y" * 2000}).encode()):
                graph_error(await api.post(f"{SIGN_UPS}/{sign_up_id}/{verb}", content=body,
                                           headers={**admin, "content-type": "application/json"}), 400,
                            "invalidRequest")
        assert (await sign_up_row(email)).state == "pendingApproval"

        # A sign-up whose flow has no approval step cannot be decided.
        plain_flow = await make_flow(organization_id)
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            plain_id, _ = await through_code(client, mail, plain_flow, unique_email())
        graph_error(await api.post(f"{SIGN_UPS}/{plain_id}/approve", headers=admin), 409, "signUpNotPending")

        denied = await callback(api, sign_up_id, "approval", {"decision": "deny", "reason": "no contract"}, system)
        assert denied.status_code == 200, denied.text
        row = await until(lambda: sign_up_row(email), lambda r: r.state == "denied")
    assert row.reason == "no contract" and await find_user(email) is None
