"""Helpers for the self-service sign-up tests: user flows and connectors written as an admin
would have made them, a real HTTP connector server on 127.0.0.1, signed callbacks, and the
sign-up pages walked with an HTTP client that keeps cookies like a browser."""

import asyncio
import json
import re
import time
import uuid

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response
from sqlmodel import select

from foyer.db import session_scope
from foyer.security import SIGNATURE_HEADER, connector_secret, sign, signature_valid
from models.sign_up import ApiConnector, SignUp, UserFlow, UserFlowAttribute
from tests.extension_receiver import free_port
from tests.support import passcode_in

LOYALTY = "extension_0123456789abcdef0123456789abcdef_LoyaltyNumber"


def default_assignments() -> list[dict]:
    return [
        {"id": "displayName", "displayName": "Display name", "isOptional": False, "userInputType": "textBox",
         "userAttribute": {"id": "displayName"}, "userAttributeValues": [], "order": 1},
        {"id": "city", "displayName": "City", "isOptional": True, "userInputType": "textBox",
         "userAttribute": {"id": "city"}, "userAttributeValues": [], "order": 2},
        {"id": "country", "displayName": "Country", "isOptional": False, "userInputType": "dropdownSingleSelect",
         "userAttribute": {"id": "country"}, "order": 3,
         "userAttributeValues": [{"name": "Norway", "value": "NO", "isDefault": False},
                                 {"name": "Kenya", "value": "KE", "isDefault": False}]},
        {"id": LOYALTY, "displayName": "Loyalty number", "isOptional": True, "userInputType": "textBox",
         "userAttribute": {"id": LOYALTY}, "userAttributeValues": [], "order": 4},
    ]


async def make_connector(organization_id: str, url: str, timeout: float = 5.0) -> str:
    async with session_scope() as session:
        row = ApiConnector(organization_id=organization_id, display_name=f"conn {uuid.uuid4().hex[:6]}",
                           target_url=url, authentication_type="signature", timeout_seconds=timeout)
        session.add(row)
    return row.id


async def make_flow(organization_id: str, **fields) -> str:
    """A flow in the directory; custom attributes named in its assignments are created too."""
    flow_id = f"B2X_1_test_{uuid.uuid4().hex[:8]}"
    assignments = fields.pop("user_attribute_assignments", None) or default_assignments()
    async with session_scope() as session:
        existing = (await session.exec(select(UserFlowAttribute).where(
            UserFlowAttribute.organization_id == organization_id, UserFlowAttribute.id == LOYALTY))).first()
        if existing is None:
            session.add(UserFlowAttribute(id=LOYALTY, organization_id=organization_id, name="LoyaltyNumber",
                                          display_name="Loyalty number", data_type="int64"))
        session.add(UserFlow(id=flow_id, organization_id=organization_id, display_name="Partner sign-up",
                             identity_provider_ids=["EmailOtpSignup-OAUTH"],
                             user_attribute_assignments=assignments, **fields))
    return flow_id


async def sign_up_row(email: str) -> SignUp | None:
    async with session_scope() as session:
        return (await session.exec(select(SignUp).where(SignUp.email == email.lower())
                                   .order_by(SignUp.created_date_time.desc()))).first()


class ConnectorServer:
    """A real HTTP server behind API connectors: checks Foyer's signature, records each call,
    answers what the test told it for each step (a dict, or a (status, dict) pair)."""

    def __init__(self):
        self.answers: dict[str, list] = {}
        self.calls: list[dict] = []
        self.bad_signatures = 0
        self.port = free_port()
        app = FastAPI()

        @app.post("/{connector}")
        async def hook(connector: str, request: Request) -> Response:
            body = await request.body()
            if not signature_valid(connector_secret(connector), request.headers.get(SIGNATURE_HEADER),
                                   body, time.time()):
                self.bad_signatures += 1
                return Response(status_code=401)
            payload = json.loads(body)
            self.calls.append(payload)
            queue = self.answers.get(payload["step"]) or [{"version": "1.0.0", "action": "Continue"}]
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
            status, content = answer if isinstance(answer, tuple) else (200, answer)
            return Response(json.dumps(content), status_code=status, media_type="application/json")

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))

    def url(self, connector_id: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{connector_id}"

    async def connector(self, organization_id: str, timeout: float = 5.0) -> str:
        """A connector pointing here (its id is in the path, so the server knows its secret)."""
        connector_id = await make_connector(organization_id, self.url("pending"), timeout)
        async with session_scope() as session:
            row = await session.get(ApiConnector, connector_id)
            row.target_url = self.url(connector_id)
            session.add(row)
        return connector_id

    def answer(self, step: str, *answers) -> None:
        self.answers[step] = list(answers)

    def steps(self) -> list[str]:
        return [c["step"] for c in self.calls]

    async def __aenter__(self) -> "ConnectorServer":
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        await self.task


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
    from temporalio.client import WithStartWorkflowOperation
    from temporalio.common import WorkflowIDConflictPolicy

    from foyer.security import new_challenge_id
    from foyer.settings import get_settings
    from workflows.messages import (
        SignUpAttributes, SignUpCodeRequest, SignUpInput, VerifyRequest, sign_up_workflow_id,
    )
    from workflows.sign_up import SignUpWorkflow

    sign_up_id = new_challenge_id()
    before = len(mail.to(email))
    operation = WithStartWorkflowOperation(
        SignUpWorkflow.run, SignUpInput(sign_up_id=sign_up_id, organization_id=organization_id,
                                        user_flow_id=flow_id),
        id=sign_up_workflow_id(sign_up_id), task_queue=get_settings().task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    status = await client.execute_update_with_start_workflow(
        SignUpWorkflow.request_code, SignUpCodeRequest(email=email), start_workflow_operation=operation)
    assert status.state == "codeSent", status
    code = passcode_in((await mail.wait_for(email, count=before + 1))[-1].text)
    handle = await operation.workflow_handle()
    status = await handle.execute_update(SignUpWorkflow.verify, VerifyRequest(code=code))
    assert status.state == "collectingAttributes", status
    status = await handle.execute_update(SignUpWorkflow.submit_attributes, SignUpAttributes(
        values={"displayName": "Tim Timer", "country": "NO", **values}))
    return sign_up_id, handle, status
