"""Graph-style errors: every failure answers {"error": {"code", "message"}} with a 4xx status."""

import re
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import cookie_parser
from temporalio.exceptions import ApplicationError

# The business refusal codes and their HTTP status live with Refused, below the web layer; here
# they map refusals from every caller (routers, the Temporal client side) to Graph errors.
from foyer.errors import REFUSAL_STATUS, Refused



class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def bad_request(message: str, code: str = "invalidRequest") -> GraphError:
    return GraphError(400, code, message)


def not_found(what: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound", f"{what} does not exist")


def refusal(error: BaseException) -> GraphError | None:
    """The business refusal inside a Temporal failure (update/activity/workflow), if any."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ApplicationError) and error.type in REFUSAL_STATUS:
            return GraphError(REFUSAL_STATUS[error.type], error.type, error.message)
        error = error.__cause__
        seen += 1
    return None


def body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{location}: {err.get('msg')}" if location else str(err.get("msg")))
    return "; ".join(parts) or "the request is not valid"


def install(app: FastAPI) -> None:
    app.add_middleware(RefuseNul)

    @app.exception_handler(GraphError)
    async def _graph(_: Request, exc: GraphError):
        return JSONResponse(body(exc.code, exc.message), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(Refused)
    async def _refused(_: Request, exc: Refused):
        # The status from REFUSAL_STATUS (Refused.status), else the raiser's hint.
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return JSONResponse(body(exc.code, exc.message), status_code=exc.status, headers=headers)

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_: Request, exc: PoolTimeout):
        # Every database connection stayed busy for FOYER_DATABASE_POOL_TIMEOUT_SECONDS: overload,
        # not a fault of this request, so Graph's 503 with Retry-After rather than a 500.
        return JSONResponse(body("serviceUnavailable", "the database is busy; retry shortly"), status_code=503,
                            headers={"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        return JSONResponse(body("invalidRequest", _validation_message(exc)), status_code=400)

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError):
        # Whatever input made a parser recurse this deep (a body, a query option) was the
        # client's: api.limits bounds bodies up front; this is the net under every other parser.
        return JSONResponse(body("invalidRequest", "the request is nested too deeply to be read"),
                            status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        codes = {401: "InvalidAuthenticationToken", 403: "Authorization_RequestDenied",
                 404: "Request_ResourceNotFound", 405: "Request_BadRequest"}
        return JSONResponse(body(codes.get(exc.status_code, "Request_BadRequest"), str(exc.detail)),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))


NUL_MESSAGE = "the request contains a NUL character (\\u0000), which no property may hold"
# A JSON string escape for NUL: "\u0000" preceded by an even number of backslashes (so not "\\u0000").
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def _nul_in_query(raw: bytes) -> bool:
    # Latin-1 maps every byte (raw or percent-decoded) to one character, so any input parses.
    return any("\x00" in key or "\x00" in value for key, value in
               parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1"))


def _nul_outside_body(scope) -> bool:
    if "\x00" in scope.get("path", "") or _nul_in_query(scope.get("query_string", b"")):
        return True
    for name, value in scope.get("headers", ()):
        if b"\x00" in name or b"\x00" in value:
            return True
        # A quoted cookie may spell NUL as the octal escape \000, which the cookie parser decodes.
        if name == b"cookie" and any("\x00" in k or "\x00" in v
                                     for k, v in cookie_parser(value.decode("latin-1")).items()):
            return True
    return False


def nul_in_body(body: bytes, content_type: bytes) -> bool:
    if b"\x00" in body:
        return True
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return _nul_in_query(body)
    if content_type.startswith(b"multipart/"):
        return False  # its fields and files arrive as raw bytes, checked above
    # Every other body may be read as JSON (some routers parse whatever they are sent).
    return _ESCAPED_NUL.search(body) is not None


class RefuseNul:
    """ASGI middleware: a request holding a NUL character in its path, query, or a header or
    cookie value is answered 400 before any router reads it; api.limits.BodyLimits, which reads
    every body once anyway, refuses one in the body (`nul_in_body`). PostgreSQL text cannot hold
    NUL (the database would answer with a 500) and SQLite would store it silently; refusing it
    here, once, keeps every database and every router (pages included) the same."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and _nul_outside_body(scope):
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope, receive, send):
        await JSONResponse(body("invalidRequest", NUL_MESSAGE), status_code=400)(scope, receive, send)
