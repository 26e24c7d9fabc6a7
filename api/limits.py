"""Bounds on what the API reads from a request body, once for every route.

Python's json (and what parses after it) recurses once per level of nesting, so a body of
100,000 `[` costs a RecursionError, a 500, in whichever router parsed it itself; and a body of
any size would be read into memory whole. So, before any route runs:
- a body larger than MAX_BODY_BYTES (a campaign upload: MAX_UPLOAD_BODY_BYTES) answers 413,
  counted as it arrives whether or not the client sent Content-Length;
- a body holding a NUL character (raw, JSON-escaped, or in an urlencoded field) answers 400
  (api.errors.nul_in_body; the path, query and headers are checked by api.errors.RefuseNul);
- a body that is not a form (JSON, or anything a router may json.loads) nested deeper than
  MAX_JSON_DEPTH, or with an object of more than MAX_OBJECT_MEMBERS members, answers 400.
  Brackets and colons inside strings do not count. (An object of 100,000 unknown keys would
  otherwise cost pydantic and FastAPI seconds of CPU to list as errors, on the event loop.)
Both answers carry Graph's error body. Graph itself refuses bodies over 4 MB.
"""

import json
import re

from foyer.api.errors import NUL_MESSAGE, nul_in_body
from foyer.api.errors import body as error_body

MAX_BODY_BYTES = 4 * 1024 * 1024
# The campaign's CSV may be 64 MiB (api.routers.campaigns.MAX_UPLOAD_BYTES), plus the form around it.
MAX_UPLOAD_BODY_BYTES = 65 * 1024 * 1024
UPLOAD_PATHS = ("/v1.0/invitationCampaigns",)
MAX_JSON_DEPTH = 64
# Graph's resources have fewer than a hundred properties; a campaign's rows are an array.
MAX_OBJECT_MEMBERS = 1_000

# A JSON string (escapes included), one bracket, or a colon. Strings are matched whole so that
# brackets and colons inside them are skipped; the unrolled loop keeps a long string one cheap match.
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:]', re.DOTALL)
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def json_shape_refusal(raw: bytes, depth_limit: int = MAX_JSON_DEPTH,
                       member_limit: int = MAX_OBJECT_MEMBERS) -> str | None:
    """Why `raw`, read as JSON, is refused: arrays/objects nested more than `depth_limit` deep,
    or an object with more than `member_limit` members; None if neither. Linear in the size of
    the body; never recurses."""
    if raw.count(b"[") + raw.count(b"{") <= depth_limit and raw.count(b":") <= member_limit:
        return None
    members: list[int | None] = []  # per open container: an object's member count, None for an array
    for match in _JSON_TOKEN.finditer(raw):
        char = raw[match.start()]
        if char == 0x22:  # a string
            continue
        if char in (0x5B, 0x7B):  # [ {
            members.append(0 if char == 0x7B else None)
            if len(members) > depth_limit:
                return f"the JSON body is nested more than {depth_limit} levels deep"
        elif char == 0x3A:  # : after an object's key
            if members and members[-1] is not None:
                members[-1] += 1
                if members[-1] > member_limit:
                    return f"a JSON object in the body has more than {member_limit} members"
        elif members:
            members.pop()
    return None


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
        refusal = None if headers.get("content-type", "").lower().startswith(_FORMS) else json_shape_refusal(raw)
        if refusal:
            return await _refuse(send, 400, "invalidRequest", refusal)
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
