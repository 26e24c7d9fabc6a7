"""X-Request-ID: every answer carries one, the caller's (when it is a sane one) or a new one, and
every log record made while the request runs carries it as `request_id` (foyer.logs). With
tracing on, the server span carries it too (`foyer.request_id`), so a log line leads to its trace
and back.

Pure ASGI middleware, added last in api.main.create_app, so outermost among Foyer's own (only the
tracing middleware, when on, is outside it): the 429 of shed_load and uvicorn's access-log line
are inside its context too.
"""

import re
import sys
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foyer.logs import request_id

HEADER = "X-Request-ID"
# A caller's id is kept only if it is short and plain (it is echoed and logged).
_SANE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"")
        try:
            value = given.decode("ascii")
        except UnicodeDecodeError:
            value = ""
        rid = value if _SANE.match(value) else uuid.uuid4().hex
        token = request_id.set(rid)
        trace = sys.modules.get("opentelemetry.trace")  # imported only when tracing is on
        if trace is not None:
            span = trace.get_current_span()
            if span.is_recording():
                span.set_attribute("foyer.request_id", rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
