"""A real HTTP server standing in for an external system behind a custom extension: it checks
Foyer's signature on every call, keeps what it received, and can call back to resume."""

import asyncio
import json
import time

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

from foyer.security import SIGNATURE_HEADER, sign, signature_valid
from tests.ports import free_port



class ExtensionReceiver:
    def __init__(self, secret: str = "", status: int = 202):
        self.secret, self.status = secret, status
        self.events: list[dict] = []
        self.bad_signatures = 0
        self.port = free_port()
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            if not signature_valid(self.secret, request.headers.get(SIGNATURE_HEADER), body, time.time()):
                self.bad_signatures += 1
                return Response(status_code=401)
            self.events.append(json.loads(body))
            return Response(status_code=self.status)

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __aenter__(self) -> "ExtensionReceiver":
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        await self.task

    async def event(self, stage: str, timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event["data"]["stage"] == stage:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {stage} event; got {[e['data']['stage'] for e in self.events]}")


async def resume(base_url: str, event: dict, state: str, secret: str, *, timestamp: int | None = None,
                 signature: str | None = None) -> httpx.Response:
    """POST the callback Foyer's event asked for, signed (or not) as told."""
    body = json.dumps({"source": "test-approval-system",
                       "type": "microsoft.graph.accessPackageCustomExtensionStage.assignmentRequestCreated",
                       "data": {"stage": event["data"]["stage"], "state": state,
                                "customExtensionStageInstanceId": event["data"]["customExtensionStageInstanceId"]}}).encode()
    header = signature or sign(secret, timestamp or int(time.time()), body)
    async with httpx.AsyncClient() as client:
        return await client.post(base_url + event["data"]["callbackUriPath"], content=body,
                                 headers={"content-type": "application/json", SIGNATURE_HEADER: header})
