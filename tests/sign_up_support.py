"""Helpers for the self-service sign-up tests (user flows and connectors are built by
tests/factories.py): signed callbacks, and the sign-up pages walked with an HTTP client that
keeps cookies like a browser. The real HTTP connector server on 127.0.0.1 is
tests/connector_server.py (`connector_server()`, `server.connector(organization_id)`,
`server.reply(..., step=...)`)."""

import json
import re
import time

import httpx
from sqlmodel import select

from foyer.db import session_scope
from foyer.security import SIGNATURE_HEADER, connector_secret, sign
from foyer.models.sign_up import SignUp
from tests.support import passcode_in


async def sign_up_row(email: str) -> SignUp | None:
    async with session_scope() as session:
        return (await session.exec(select(SignUp).where(SignUp.email == email.lower())
                                   .order_by(SignUp.created_date_time.desc()))).first()


async def callback(api, sign_up_id: str, kind: str, body: dict, connector_id: str, *,
                   secret: str | None = None, timestamp: int | None = None,
                   raw: bytes | None = None, signature: str | None = None) -> httpx.Response:
    """POST a signed callback (verification | approval) as the external system would."""
    raw = raw if raw is not None else json.dumps(body).encode()
    header = signature or sign(secret or connector_secret(connector_id), timestamp or int(time.time()), raw)
    return await api.post(f"/v1.0/identity/signUps/{sign_up_id}/{kind}", content=raw,
                          headers={"content-type": "application/json", SIGNATURE_HEADER: header,
                                   "X-Foyer-Connector": connector_id})


async def ask_code(client, flow_id: str, email: str) -> httpx.Response:
    return await client.post(f"/signup/{flow_id}", data={"email": email})


def sign_up_id_in(page: str) -> str:
    match = re.search(r'name="sign_up_id" value="([^"]+)"', page)
    assert match, page[:800]
    return match.group(1)


async def through_code(client, mail, flow_id: str, email: str) -> tuple[str, httpx.Response]:
    """Email and code steps: (sign-up id, the page after the code)."""
    before = len(mail.to(email))
    response = await ask_code(client, flow_id, email)
    assert response.status_code == 200, response.text[:800]
    sign_up_id = sign_up_id_in(response.text)
    messages = await mail.wait_for(email, count=before + 1)
    code = passcode_in(messages[-1].text)
    response = await client.post(f"/signup/{flow_id}/verify",
                                 data={"sign_up_id": sign_up_id, "code": code, "email": email})
    return sign_up_id, response


async def submit_attributes(client, flow_id: str, sign_up_id: str, email: str, **values) -> httpx.Response:
    return await client.post(f"/signup/{flow_id}/attributes",
                             data={"sign_up_id": sign_up_id, "email": email, **values})


def result_state(page: str) -> str | None:
    match = re.search(r'id="result" data-state="([^"]+)"', page)
    return match.group(1) if match else None


async def start_on(client, mail, organization_id: str, flow_id: str, email: str, **values):
    """Drive a SignUpWorkflow on `client` (e.g. a time-skipping server) through code and form,
    as the pages do: returns (sign-up id, handle, status after the form)."""
    from foyer.security import new_challenge_id
    from foyer.usecases.sign_up import record_sign_up_code_attempt
    from foyer.workflows.client import sign_ups
    from foyer.workflows.messages import SignUpCodeRequest, sign_up_workflow_id
    from foyer.workflows.sign_up import SignUpWorkflow

    sign_up_id = new_challenge_id()
    before = len(mail.to(email))
    status = await sign_ups.request_code(client, sign_up_id, organization_id, flow_id, SignUpCodeRequest(email=email))
    assert status.state == "codeSent", status
    code = passcode_in((await mail.wait_for(email, count=before + 1))[-1].text)
    handle = client.get_workflow_handle_for(SignUpWorkflow.run, sign_up_workflow_id(sign_up_id))
    # As the page does: the code is checked against the database, then the workflow is told.
    assert (await record_sign_up_code_attempt(sign_up_id, code)).outcome == "accepted"
    status = await sign_ups.verify(client, sign_up_id)
    assert status.state == "collectingAttributes", status
    status = await sign_ups.submit_attributes(client, sign_up_id, {
        "displayName": "Tim Timer", "country": "NO", **values})
    return sign_up_id, handle, status
