"""API connector calls during self-service sign-up (Entra's API connectors).

`call_api_connector(ConnectorCall) -> ConnectorOutcome` POSTs the sign-up's JSON (Entra's request
body: email, identities, displayName and the other collected attributes, `ui_locales`,
`client_id` when the caller put them in the payload, plus `step`) to the connector's `targetUrl`,
and turns the answer into an outcome:

| The connector answers | Outcome |
|---|---|
| 200 `{"version": "1.0.0", "action": "Continue", <attributes>…}` | `continue`; the extra keys are values to overwrite, kept only for attributes the user flow collects (never `email`) |
| 200 `{"version": "1.0.0", "action": "ShowBlockPage", "userMessage": …}` | `block` with that message |
| 400 `{"version": "1.0.0", "status": 400, "action": "ValidationError", "userMessage": …}` | `validationError` with that message |
| 200 or 202 `{"action": "Pending", "reference": …}` (Foyer's own, only at the durable steps `identityVerification` and `approvalRequested`) | `pending` with that reference |
| anything else: a timeout, a refused connection or TLS handshake, a destination that is not public (see `foyer.outbound`; the call is not made), a redirect, 5xx, a body that is not JSON, an unknown action, a missing `userMessage`, `ValidationError` with a status other than 400, `Continue` on a 400, a `version` other than 1.0.0 … | `block`: fail closed, with a generic message for the person and the precise reason in `detail` (and the audit log) |

`version` may be left out; when present it must be "1.0.0".

Authentication: `basic` sends an HTTP Basic header; `certificate` presents the connector's PKCS#12
client certificate in the TLS handshake (both stored encrypted, opened here just before the call;
one that no accepted key opens blocks the sign-up without calling); every type also sends `X-Foyer-Signature: t=<unix>,
v1=<hex HMAC-SHA256 of "t.body">` keyed by the connector's derived secret
(`foyer.security.connector_secret`, shown once as `foyerSigningSecret` when the connector is
created), so the receiver can verify the call whatever the type. An https target's certificate
is verified against the system's CAs (OpenSSL honours `SSL_CERT_FILE` / `SSL_CERT_DIR` for a
private CA).

Retries: the person is waiting on a page, so a connector is never retried. The activity raises
only for its own database errors; schedule it with `RetryPolicy(maximum_attempts=1)` (or accept
that a retry after such an error calls the connector again). Every call is audited once
("SelfServiceSignUp" / "Call API connector"): the connector, the step, the outcome, the detail,
the sign-up id and the workflow id `signup:{sign_up_id}`. The audit record is not deduplicated on
purpose: two records mean two calls really reached (or tried to reach) the connector.
"""

import asyncio
import base64
import json
import os
import ssl
import tempfile
import time
from urllib.parse import urlsplit

import httpx
from temporalio import activity

from foyer.activities.outcomes import count_call
from foyer.activities.store import audit
from foyer import outbound
from foyer.db import reading, session_scope
from foyer.security import SIGNATURE_HEADER, SealedValueError, connector_secrets, sign
from foyer.models.sign_up import ApiConnector, UserFlow
from foyer.workflows.messages.sign_up import ConnectorCall, ConnectorOutcome, sign_up_workflow_id

GENERIC_MESSAGE = "We can't complete your sign-up right now. Please try again later."
DURABLE_STEPS = ("identityVerification", "approvalRequested")
MAX_RESPONSE_BYTES = 256 * 1024
MAX_USER_MESSAGE = 1024
# Keys of a Continue answer that are not attribute values.
NOT_ATTRIBUTES = {"version", "action", "status", "userMessage"}
# Never overwritten by a connector: the address the person proved they own.
NEVER_OVERWRITTEN = {"email"}


class ConnectorFailure(Exception):
    """The call did not produce an answer we can read (becomes a fail-closed block)."""


def client_certificate_context(pkcs12_base64: str, password: str | None) -> ssl.SSLContext:
    """A TLS context that verifies the server as usual and presents the PKCS#12 client
    certificate (key, certificate and its chain). The PEM lives in a private temporary file only
    for as long as `load_cert_chain` reads it."""
    from cryptography.hazmat.primitives.serialization import (
        Encoding, NoEncryption, PrivateFormat, pkcs12,
    )

    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            base64.b64decode(pkcs12_base64), password.encode() if password else None)
    except ValueError as error:
        raise ConnectorFailure(f"the client certificate cannot be read: {error}") from None
    if key is None or certificate is None:
        raise ConnectorFailure("the client certificate has no private key or no certificate")
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    pem += certificate.public_bytes(Encoding.PEM)
    pem += b"".join(c.public_bytes(Encoding.PEM) for c in chain or [])
    context = ssl.create_default_context()
    descriptor, path = tempfile.mkstemp(prefix="foyer-connector-", suffix=".pem")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)
    return context


def interpret(step: str, status: int, raw: bytes, collected: set[str]) -> ConnectorOutcome:
    """Entra's response contract (and Foyer's Pending) → an outcome; anything else blocks."""

    def blocked(detail: str) -> ConnectorOutcome:
        return ConnectorOutcome(action="block", user_message=GENERIC_MESSAGE, status_code=status,
                                detail=detail)

    try:
        answer = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return blocked(f"HTTP {status} with a body that is not JSON")
    if not isinstance(answer, dict):
        return blocked(f"HTTP {status} with JSON that is not an object")
    action = answer.get("action")
    version = answer.get("version")
    if version is not None and version != "1.0.0":
        return blocked(f"HTTP {status}: unsupported version {version!r} (expected 1.0.0)")
    message = answer.get("userMessage")
    has_message = isinstance(message, str) and message.strip() != ""
    if has_message:
        message = message.strip()[:MAX_USER_MESSAGE]

    if action == "Continue":
        if status != 200:
            return blocked(f"HTTP {status} with action Continue (Continue must be HTTP 200)")
        offered = {k: v for k, v in answer.items() if k not in NOT_ATTRIBUTES}
        kept = {k: v for k, v in offered.items()
                if k in collected and k not in NEVER_OVERWRITTEN
                and (v is None or isinstance(v, (str, int, float, bool)))}
        ignored = sorted(set(offered) - set(kept))
        detail = "Continue" + (f", overwriting {', '.join(sorted(kept))}" if kept else "")
        if ignored:
            detail += f"; ignored {', '.join(ignored)} (not collected by the flow, or not a plain value)"
        return ConnectorOutcome(action="continue", attributes=kept, status_code=status, detail=detail)
    if action == "ShowBlockPage":
        if status != 200:
            return blocked(f"HTTP {status} with action ShowBlockPage (must be HTTP 200)")
        if not has_message:
            return blocked("ShowBlockPage without a userMessage")
        return ConnectorOutcome(action="block", user_message=message, status_code=status,
                                detail="ShowBlockPage")
    if action == "ValidationError":
        if status != 400:
            return blocked(f"HTTP {status} with action ValidationError (must be HTTP 400)")
        if str(answer.get("status")) != "400":
            return blocked(f"ValidationError with status {answer.get('status')!r} (must be 400)")
        if not has_message:
            return blocked("ValidationError without a userMessage")
        return ConnectorOutcome(action="validationError", user_message=message, status_code=status,
                                detail="ValidationError")
    if action == "Pending":
        if step not in DURABLE_STEPS:
            return blocked(f"Pending at step {step}, which cannot wait (only {', '.join(DURABLE_STEPS)})")
        if status not in (200, 202):
            return blocked(f"HTTP {status} with action Pending (must be HTTP 200 or 202)")
        reference = answer.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            return blocked("Pending without a reference")
        return ConnectorOutcome(action="pending", reference=reference.strip()[:256], status_code=status,
                                detail="Pending")
    if status >= 300:
        return blocked(f"answered HTTP {status}" + (f" with action {action!r}" if action else ""))
    return blocked(f"HTTP {status} with unknown action {action!r}")


async def _post(connector: dict, body: bytes) -> tuple[int, bytes]:
    """POST and read at most MAX_RESPONSE_BYTES, all within the connector's timeout."""
    headers = {"content-type": "application/json", "accept": "application/json",
               SIGNATURE_HEADER: sign(connector_secrets(connector["id"]), int(time.time()), body)}
    auth = None
    # Always our own context (not certifi's bundle), so every type trusts the same CAs.
    verify = ssl.create_default_context()
    if connector["authentication_type"] in ("basic", "certificate") and connector.get("unreadable"):
        raise ConnectorFailure(f"the connector's stored credentials cannot be decrypted: "
                               f"{connector['unreadable']}")
    if connector["authentication_type"] == "basic":
        auth = httpx.BasicAuth(connector["basic_username"] or "", connector["basic_password"] or "")
    elif connector["authentication_type"] == "certificate":
        if not connector["certificate_pkcs12"]:
            raise ConnectorFailure("certificate authentication without an uploaded client certificate")
        if urlsplit(connector["target_url"]).scheme != "https":
            raise ConnectorFailure("certificate authentication needs an https targetUrl")
        verify = client_certificate_context(connector["certificate_pkcs12"],
                                            connector["certificate_password"])
    timeout = float(connector["timeout_seconds"])
    async with asyncio.timeout(timeout):
        # Connects only to an address that passes the outbound rule, resolved now (not when saved).
        async with outbound.client(timeout=timeout, verify=verify, auth=auth) as client:
            async with client.stream("POST", connector["target_url"], content=body,
                                     headers=headers) as response:
                raw = b""
                async for chunk in response.aiter_bytes():
                    raw += chunk
                    if len(raw) > MAX_RESPONSE_BYTES:
                        raise ConnectorFailure(f"HTTP {response.status_code} with a body over "
                                               f"{MAX_RESPONSE_BYTES} bytes")
                return response.status_code, raw


def describe(failure: BaseException) -> str:
    """The failure and what caused it (httpx often wraps a TLS alert in an empty ReadError)."""
    parts, seen = [], 0
    while failure is not None and seen < 5:
        text = str(failure).strip()
        parts.append(f"{type(failure).__name__}: {text}" if text else type(failure).__name__)
        failure = failure.__cause__ or failure.__context__
        seen += 1
    return " <- ".join(parts)


@activity.defn
async def call_api_connector(call: ConnectorCall) -> ConnectorOutcome:
    """Call the connector once and say what it decided; never raises for the connector's failure."""
    async with reading() as session:
        row = await session.get(ApiConnector, call.connector_id)
        flow = await session.get(UserFlow, call.user_flow_id)
        connector = row.model_dump() if row else None
        if row is not None:
            try:
                connector.update(row.credentials())
            except SealedValueError as error:
                connector["unreadable"] = str(error)
        collected = {(a.get("userAttribute") or {}).get("id") or a.get("id")
                     for a in (flow.user_attribute_assignments if flow else [])} - {None}

    payload = {**call.payload, "step": call.step}
    status: int | None = None
    if connector is None:
        outcome = ConnectorOutcome(action="block", user_message=GENERIC_MESSAGE,
                                   detail=f"API connector {call.connector_id} does not exist")
    else:
        try:
            status, raw = await _post(connector, json.dumps(payload).encode())
            outcome = interpret(call.step, status, raw, collected)
        except (TimeoutError, httpx.TimeoutException):
            outcome = ConnectorOutcome(
                action="block", user_message=GENERIC_MESSAGE, status_code=status,
                detail=f"no answer within {connector['timeout_seconds']:g} s")
        except ConnectorFailure as failure:
            outcome = ConnectorOutcome(action="block", user_message=GENERIC_MESSAGE, detail=str(failure))
        except (httpx.HTTPError, ssl.SSLError, OSError) as failure:
            refused = outbound.refusal_in(failure)
            outcome = ConnectorOutcome(action="block", user_message=GENERIC_MESSAGE,
                                       detail=f"destination refused: {refused}" if refused
                                       else describe(failure)[:1000])

    count_call("foyer_api_connector_call_outcomes", "API connector calls by the action they led to",
               action=outcome.action)
    async with session_scope() as session:
        await audit(session, key=None, category="SelfServiceSignUp", activity="Call API connector",
                    organization_id=connector["organization_id"] if connector else None,
                    actor_id=call.connector_id,
                    actor_name=connector["display_name"] if connector else None,
                    target_type="SignUp", target_id=call.sign_up_id,
                    result="success" if outcome.action in ("continue", "pending") else "failure",
                    reason=outcome.detail, workflow_id=sign_up_workflow_id(call.sign_up_id),
                    details={"step": call.step, "outcome": outcome.action,
                             "statusCode": outcome.status_code, "detail": outcome.detail,
                             "userFlowId": call.user_flow_id, "signUpId": call.sign_up_id,
                             "apiConnectorId": call.connector_id,
                             "overwritten": sorted(outcome.attributes)})
    return outcome


ALL = [call_api_connector]
