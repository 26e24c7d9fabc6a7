"""A real relying party for the OpenID Provider tests: a small Starlette app that signs people in
with authlib's Starlette OAuth client (discovery, PKCE S256, state, nonce, code exchange with
client_secret_basic, ID token verification against the JWKS), served by uvicorn on 127.0.0.1.

    /login     starts a sign-in (query parameters prompt, max_age, login_hint are passed on)
    /callback  the redirect URI: exchanges the code and answers the verified claims as JSON, or
               {"error", "error_description"} (400) when the provider answered an error
    /refresh   uses the last refresh token and answers the new claims (or the error)

What it received is kept on the object (`last_token`), for the tests to look into.
"""

import asyncio
import secrets
from contextlib import asynccontextmanager

import uvicorn
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route



class RelyingParty:
    def __init__(self, *, discovery_url: str, client_id: str, client_secret: str | None, port: int,
                 scope: str = "openid profile email offline_access"):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.redirect_uri = f"{self.url}/callback"
        self.last_token: dict | None = None
        self.oauth = OAuth()
        self.client = self.oauth.register(
            name="foyer", client_id=client_id, client_secret=client_secret,
            server_metadata_url=discovery_url,
            client_kwargs={"scope": scope, "code_challenge_method": "S256",
                           "token_endpoint_auth_method": "client_secret_basic" if client_secret else "none"})
        self.app = Starlette(routes=[Route("/login", self.login), Route("/callback", self.callback),
                                     Route("/refresh", self.refresh)])
        self.app.add_middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32), session_cookie="rp_session")

    async def login(self, request: Request):
        extra = {k: v for k, v in request.query_params.items() if k in ("prompt", "max_age", "login_hint")}
        return await self.client.authorize_redirect(request, self.redirect_uri, **extra)

    async def callback(self, request: Request):
        try:
            token = await self.client.authorize_access_token(request)
        except OAuthError as error:
            return JSONResponse({"error": error.error, "error_description": error.description}, status_code=400)
        self.last_token = token
        return JSONResponse(dict(token["userinfo"]))

    async def refresh(self, request: Request):
        metadata = await self.client.load_server_metadata()
        async with self.client._get_oauth_client(**metadata) as client:
            try:
                token = await client.refresh_token(metadata["token_endpoint"],
                                                   refresh_token=self.last_token["refresh_token"])
            except OAuthError as error:
                return JSONResponse({"error": error.error, "error_description": error.description},
                                    status_code=400)
        claims = await self.verify(token)
        self.last_token = dict(token)
        return JSONResponse(dict(claims))

    async def verify(self, token: dict, nonce: str | None = None) -> dict:
        """The claims of `token`'s ID token as authlib verifies them for this client (signature by
        the JWKS, iss = the discovery's issuer, aud = this client's id, exp, nonce); raises when
        any of it is wrong."""
        return dict(await self.client.parse_id_token(token, nonce=nonce))


@asynccontextmanager
async def serving(rp: RelyingParty):
    server = uvicorn.Server(uvicorn.Config(rp.app, host="127.0.0.1", port=rp.port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield rp
    finally:
        server.should_exit = True
        await task
