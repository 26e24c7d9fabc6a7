"""The server bench/openid.py measures: Foyer's own app (create_app) plus one bare route that
only signs the same ID token the token endpoint signs, with the same key — the signing ceiling of
this machine, in the same process, behind the same uvicorn and middleware.

    uvicorn --factory bench.openid_server:app  (bench/openid.py starts it; settings from the env)
"""

import time

from fastapi import Request
from fastapi.responses import JSONResponse

from foyer.api.main import create_app
from foyer.usecases.signing_keys import sign


def app():
    foyer = create_app()

    @foyer.post("/bench/sign")
    async def bare_sign(request: Request) -> JSONResponse:
        # The same size of work as a refresh answer's JWTs: an ID token and an access token, no
        # database, no client authentication, no rotation.
        form = await request.form()
        now = int(time.time())
        claims = {"iss": "bench", "aud": str(form.get("client_id", "")), "sub": "bench-subject",
                  "oid": "bench-oid", "iat": now, "nbf": now, "exp": now + 3600, "ver": "2.0"}
        id_token = await sign(claims)
        access_token = await sign({**claims, "scp": "openid profile email"}, typ="at+jwt")
        return JSONResponse({"id_token": id_token, "access_token": access_token, "token_type": "Bearer"},
                            headers={"Cache-Control": "no-store"})

    return foyer
