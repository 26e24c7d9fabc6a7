"""Bounds on what the API reads from a request body, once for every route.

Python's json (and what parses after it) recurses once per level of nesting, so a body of
100,000 `[` costs a RecursionError, a 500, in whichever router parsed it itself; and a body of
any size would be read into memory whole. So, before any route runs:
- a body larger than MAX_BODY_BYTES (a campaign upload: MAX_UPLOAD_BODY_BYTES) answers 413,
  counted as it arrives whether or not the client sent Content-Length;
- a body holding a NUL character (raw, JSON-escaped, or in an urlencoded field) answers 400
  (api.errors.nul_in_body; the path, query and headers are checked by api.errors.RefuseNul);
- a body that is not a form (JSON, or anything a router may json.loads) nested deeper than
  MAX_JSON_DEPTH answers 400. Brackets inside strings are not nesting.
Both answers carry Graph's error body. Graph itself refuses bodies over 4 MB.
"""

import json
import re

from api.errors import NUL_MESSAGE, nul_in_body
from api.errors import body as error_body

MAX_BODY_BYTES = 4 * 1024 * 1024
# The campaign's CSV may be 64 MiB (api.routers.campaigns.MAX_UPLOAD_BYTES), plus the form around it.
MAX_UPLOAD_BODY_BYTES = 65 * 1024 * 1024
UPLOAD_PATHS = ("/v1.0/invitationCampaigns",)
MAX_JSON_DEPTH = 64

# A JSON string (escapes included), or one bracket. Strings are matched whole so that brackets
# inside them are skipped; the unrolled loop keeps a long string one cheap match.
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `raw`, read as JSON, opens more than `limit` arrays/objects inside each other.
    Linear in the size of the body; never recurses."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKEN.finditer(raw):
        char = raw[match.start()]
        if char == 0x22:  # a string
            continue
        if char in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


def body_limit(path: str) -> int:
    return MAX_UPLOAD_BODY_BYTES if path.rstrip("/") in UPLOAD_PATHS else MAX_BODY_BYTES


class BodyLimits:
    """ASGI middleware: read the body once (up to its limit), check it for NUL and nesting, then
    hand the same bytes to the application."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = body_limit(scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return await _refuse(send, 413, "RequestEntityTooLarge",
                                 f"the request body is larger than {limit} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await _refuse(send, 413, "RequestEntityTooLarge",
                                     f"the request body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        if nul_in_body(raw, headers.get("content-type", "").lower().encode("latin-1")):
            return await _refuse(send, 400, "invalidRequest", NUL_MESSAGE)
        if not headers.get("content-type", "").lower().startswith(_FORMS) and json_depth_exceeds(raw):
            return await _refuse(send, 400, "invalidRequest",
                                 f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


async def _refuse(send, status: int, code: str, message: str) -> None:
    content = json.dumps(error_body(code, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(content)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": content})
