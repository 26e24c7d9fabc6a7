"""Second factors: a TOTP authenticator app (softwareOath) and passkeys or security keys (fido2,
WebAuthn) — registering them, checking them, removing them. Called by the MFA pages
(api/pages/mfa.py) and the Graph edge (api/routers/authentication_methods.py).

TOTP: the secret is sealed (foyer.security.seal, bound to its row); a code is good within one time
step either side (valid_window=1) and a time step is accepted once (`last_used_step`); five wrong
codes in a row lock the method for 15 minutes. The row is locked while it is checked, so
concurrent tries cannot count past the limit nor use one step twice. Enrolment makes an
unconfirmed row (any earlier unconfirmed one of the person goes); its first right code confirms it,
and replaces the person's earlier authenticator app (one app at a time).

WebAuthn (py_webauthn): each ceremony's challenge is a WebAuthnChallenge row, single use and five
minutes long, found again from the challenge the browser signed; user verification "preferred";
registration excludes the person's credentials, authentication allows only theirs; the signature
counter is kept. What a browser sends that does not verify raises MethodRefused, whose message a
page shows.
"""

import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
import segno
from sqlmodel import col, delete, select
from webauthn import (
    generate_authentication_options, generate_registration_options, options_to_json,
    verify_authentication_response, verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.parse_authentication_credential_json import parse_authentication_credential_json
from webauthn.helpers.parse_registration_credential_json import parse_registration_credential_json
from webauthn.helpers.structs import (
    AttestationConveyancePreference, AuthenticatorSelectionCriteria, AuthenticatorTransport,
    PublicKeyCredentialDescriptor, ResidentKeyRequirement, UserVerificationRequirement,
)

from foyer.security import seal, unseal
from foyer.models.base import utcnow
from foyer.models.directory import Organization, User
from foyer.models.mfa import AuthenticationMethod, WebAuthnChallenge

SOFTWARE_OATH, FIDO2 = "softwareOath", "fido2"
MAX_WRONG_CODES = 5
LOCK_DURATION = timedelta(minutes=15)
# An enrolment (the secret shown, no code typed yet) is good this long.
ENROLMENT_LIFETIME = timedelta(minutes=30)
CHALLENGE_LIFETIME = timedelta(minutes=5)
TOTP_PERIOD = 30


class MethodRefused(Exception):
    """A registration or a sign-in with a second factor that cannot go on; `message` is for the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TotpEnrolment:
    method_id: str
    secret: str  # base32, to type into the app
    uri: str  # otpauth://totp/...
    qr_svg: str  # the URI as a QR code, inline <svg>


@dataclass(frozen=True)
class Checked:
    # "accepted" | "wrongCode" | "locked" | "replayed" | "noMethod" (verify_totp: none confirmed)
    outcome: str
    attempts_left: int = MAX_WRONG_CODES


def _secret_context(method_id: str) -> str:
    return f"authentication_methods.secret:{method_id}"


async def registered_methods(session, user_id: str) -> list[AuthenticationMethod]:
    """The person's confirmed second factors, oldest first."""
    return list((await session.exec(select(AuthenticationMethod).where(
        AuthenticationMethod.user_id == user_id, col(AuthenticationMethod.confirmed_date_time).is_not(None))
        .order_by(AuthenticationMethod.created_date_time, AuthenticationMethod.id))).all())


async def delete_method(session, user_id: str, method_id: str, kind: str | None = None) -> AuthenticationMethod | None:
    """Remove one of the person's methods (of `kind`, when given); the removed row, or None."""
    row = await session.get(AuthenticationMethod, method_id, with_for_update=True)
    if row is None or row.user_id != user_id or (kind is not None and row.kind != kind):
        return None
    await session.delete(row)
    await session.commit()
    return row


# --- TOTP ---------------------------------------------------------------------------------------

def _enrolment(row: AuthenticationMethod, user: User, issuer: str) -> TotpEnrolment:
    secret = unseal(row.secret, _secret_context(row.id))
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.mail or user.user_principal_name or user.id,
                                              issuer_name=issuer)
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=4, light="#fff", omitsize=False, title="QR code for your authenticator app")
    return TotpEnrolment(method_id=row.id, secret=secret, uri=uri, qr_svg=qr_svg)


async def begin_totp_enrolment(session, user: User) -> TotpEnrolment:
    """A new, unconfirmed authenticator app for `user` (their earlier unconfirmed ones go): the
    secret, its otpauth:// URI (issuer: the organization's name) and the URI as a QR code."""
    org = await session.get(Organization, user.organization_id)
    await session.exec(delete(AuthenticationMethod).where(
        AuthenticationMethod.user_id == user.id, AuthenticationMethod.kind == SOFTWARE_OATH,
        col(AuthenticationMethod.confirmed_date_time).is_(None)))
    row = AuthenticationMethod(organization_id=user.organization_id, user_id=user.id, kind=SOFTWARE_OATH,
                               display_name="Authenticator app")
    row.secret = seal(pyotp.random_base32(), _secret_context(row.id))
    session.add(row)
    await session.commit()
    return _enrolment(row, user, org.display_name if org else "Foyer")


async def totp_enrolment(session, user: User, method_id: str) -> TotpEnrolment | None:
    """An enrolment begun and not yet confirmed, shown again (after a wrong code), or None."""
    row = await session.get(AuthenticationMethod, method_id)
    if row is None or row.user_id != user.id or row.kind != SOFTWARE_OATH or row.confirmed_date_time is not None:
        return None
    org = await session.get(Organization, user.organization_id)
    return _enrolment(row, user, org.display_name if org else "Foyer")


def _check_code(row: AuthenticationMethod, code: str) -> Checked:
    """Check `code` against the locked row and record the outcome on it (the caller commits)."""
    now = utcnow()
    if row.locked_until is not None:
        if row.locked_until > now:
            return Checked("locked", attempts_left=0)
        row.locked_until, row.failed_attempts = None, 0
    code = "".join(code.split())
    totp = pyotp.TOTP(unseal(row.secret, _secret_context(row.id)))
    current = int(now.timestamp()) // TOTP_PERIOD
    matched = None
    if code.isdigit() and len(code) == totp.digits:
        for step in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                matched = step
                break
    if matched is not None and row.last_used_step is not None and matched <= row.last_used_step:
        # This code (or an older one) was used already: not a wrong try, not a sign-in either.
        return Checked("replayed", attempts_left=MAX_WRONG_CODES - row.failed_attempts)
    if matched is None:
        row.failed_attempts += 1
        left = MAX_WRONG_CODES - row.failed_attempts
        if left <= 0:
            row.locked_until = now + LOCK_DURATION
            return Checked("locked", attempts_left=0)
        return Checked("wrongCode", attempts_left=left)
    row.last_used_step, row.failed_attempts, row.last_used_date_time = matched, 0, now
    return Checked("accepted")


async def confirm_totp_enrolment(session, user_id: str, method_id: str, code: str) -> Checked:
    """The first code from the app: a right one confirms the method (and replaces the person's
    earlier authenticator app). MethodRefused when the enrolment is not theirs, done or too old."""
    row = (await session.exec(select(AuthenticationMethod).where(
        AuthenticationMethod.id == method_id).with_for_update())).first()
    if row is None or row.user_id != user_id or row.kind != SOFTWARE_OATH or row.confirmed_date_time is not None:
        raise MethodRefused("This set-up has ended. Start again.")
    if row.created_date_time + ENROLMENT_LIFETIME <= utcnow():
        raise MethodRefused("This set-up is too old. Start again.")
    checked = _check_code(row, code)
    if checked.outcome == "accepted":
        row.confirmed_date_time = row.last_used_date_time
        await session.exec(delete(AuthenticationMethod).where(
            AuthenticationMethod.user_id == user_id, AuthenticationMethod.kind == SOFTWARE_OATH,
            AuthenticationMethod.id != row.id))
    session.add(row)
    await session.commit()
    return checked


async def verify_totp(session, user_id: str, code: str) -> Checked:
    """A code from the person's confirmed authenticator app, as a second factor."""
    row = (await session.exec(select(AuthenticationMethod).where(
        AuthenticationMethod.user_id == user_id, AuthenticationMethod.kind == SOFTWARE_OATH,
        col(AuthenticationMethod.confirmed_date_time).is_not(None))
        .order_by(AuthenticationMethod.created_date_time).with_for_update())).first()
    if row is None:
        return Checked("noMethod", attempts_left=0)
    checked = _check_code(row, code)
    session.add(row)
    await session.commit()
    return checked


# --- WebAuthn -----------------------------------------------------------------------------------

async def _passkeys(session, user_id: str) -> list[AuthenticationMethod]:
    return [m for m in await registered_methods(session, user_id) if m.kind == FIDO2]


def _descriptor(row: AuthenticationMethod) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in row.transports or []:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(row.credential_id), transports=transports or None)


async def _new_challenge(session, user_id: str, purpose: str, challenge: bytes) -> None:
    now = utcnow()
    # The person's spent and expired challenges go (housekeeping: they are minutes long).
    await session.exec(delete(WebAuthnChallenge).where(
        WebAuthnChallenge.user_id == user_id, WebAuthnChallenge.expires_date_time <= now))
    session.add(WebAuthnChallenge(user_id=user_id, purpose=purpose, challenge=bytes_to_base64url(challenge),
                                  expires_date_time=now + CHALLENGE_LIFETIME))
    await session.commit()


def _as_dict(credential: Any) -> dict:
    if isinstance(credential, (str, bytes)):
        try:
            credential = json.loads(credential)
        except ValueError:
            raise MethodRefused("The browser's answer could not be read. Try again.") from None
    if not isinstance(credential, dict):
        raise MethodRefused("The browser's answer could not be read. Try again.")
    return credential


async def _consume_challenge(session, user_id: str, purpose: str, client_data_json: bytes) -> bytes:
    """The challenge the browser signed, if it is this person's, of this ceremony, unused and
    in time: marked used (committed by the caller, whatever the outcome)."""
    try:
        signed = bytes_to_base64url(parse_client_data_json(client_data_json).challenge)
    except WebAuthnException:
        raise MethodRefused("The browser's answer could not be read. Try again.") from None
    row = (await session.exec(select(WebAuthnChallenge).where(
        WebAuthnChallenge.user_id == user_id, WebAuthnChallenge.purpose == purpose,
        WebAuthnChallenge.challenge == signed).with_for_update())).first()
    if row is None:
        raise MethodRefused("This request was not started here. Try again.")
    if row.consumed_date_time is not None:
        raise MethodRefused("This request was already used. Try again.")
    now = utcnow()
    if row.expires_date_time <= now:
        raise MethodRefused("This request has expired. Try again.")
    row.consumed_date_time = now
    session.add(row)
    return base64url_to_bytes(signed)


async def begin_registration(session, user: User, rp_id: str, rp_name: str) -> dict:
    """Options for navigator.credentials.create(), as JSON (base64url for the binary parts)."""
    options = generate_registration_options(
        rp_id=rp_id, rp_name=rp_name, user_id=user.id.encode(),
        user_name=user.mail or user.user_principal_name or user.id,
        user_display_name=user.display_name or user.mail or "",
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[_descriptor(m) for m in await _passkeys(session, user.id)])
    await _new_challenge(session, user.id, "register", options.challenge)
    return json.loads(options_to_json(options))


async def finish_registration(session, user: User, credential_json: Any, origin: str, rp_id: str,
                              display_name: str | None = None) -> AuthenticationMethod:
    """The authenticator's answer to navigator.credentials.create(): a confirmed fido2 method."""
    credential = _as_dict(credential_json)
    try:
        parsed = parse_registration_credential_json(credential)
    except WebAuthnException:
        raise MethodRefused("The browser's answer could not be read. Try again.") from None
    try:
        expected = await _consume_challenge(session, user.id, "register", parsed.response.client_data_json)
        try:
            verified = verify_registration_response(credential=parsed, expected_challenge=expected,
                                                    expected_rp_id=rp_id, expected_origin=origin)
        except WebAuthnException as error:
            raise MethodRefused(f"This passkey or security key could not be registered: {error}") from None
        credential_id = bytes_to_base64url(verified.credential_id)
        taken = (await session.exec(select(AuthenticationMethod.id).where(
            AuthenticationMethod.credential_id == credential_id))).first()
        if taken is not None:
            raise MethodRefused("This passkey or security key is registered already.")
    except MethodRefused:
        await session.commit()  # the challenge stays used
        raise
    now = utcnow()
    row = AuthenticationMethod(
        organization_id=user.organization_id, user_id=user.id, kind=FIDO2,
        display_name=(display_name or "").strip()[:256] or "Passkey",
        credential_id=credential_id, public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count, transports=[t.value for t in parsed.response.transports or []],
        aaguid=verified.aaguid, confirmed_date_time=now, last_used_date_time=now)
    session.add(row)
    await session.commit()
    return row


async def begin_authentication(session, user: User, rp_id: str) -> dict:
    """Options for navigator.credentials.get(), allowing only the person's own credentials."""
    passkeys = await _passkeys(session, user.id)
    if not passkeys:
        raise MethodRefused("You have no passkey or security key registered here.")
    options = generate_authentication_options(rp_id=rp_id, allow_credentials=[_descriptor(m) for m in passkeys],
                                              user_verification=UserVerificationRequirement.PREFERRED)
    await _new_challenge(session, user.id, "authenticate", options.challenge)
    return json.loads(options_to_json(options))


async def finish_authentication(session, user: User, credential_json: Any, origin: str,
                                rp_id: str) -> AuthenticationMethod:
    """The authenticator's answer to navigator.credentials.get(): the method used, its counter kept."""
    credential = _as_dict(credential_json)
    try:
        parsed = parse_authentication_credential_json(credential)
    except WebAuthnException:
        raise MethodRefused("The browser's answer could not be read. Try again.") from None
    try:
        expected = await _consume_challenge(session, user.id, "authenticate", parsed.response.client_data_json)
        row = (await session.exec(select(AuthenticationMethod).where(
            AuthenticationMethod.user_id == user.id, AuthenticationMethod.kind == FIDO2,
            AuthenticationMethod.credential_id == bytes_to_base64url(parsed.raw_id),
            col(AuthenticationMethod.confirmed_date_time).is_not(None)).with_for_update())).first()
        if row is None:
            raise MethodRefused("This passkey or security key is not registered for you here.")
        try:
            verified = verify_authentication_response(
                credential=parsed, expected_challenge=expected, expected_rp_id=rp_id, expected_origin=origin,
                credential_public_key=base64url_to_bytes(row.public_key),
                credential_current_sign_count=row.sign_count)
        except WebAuthnException as error:
            raise MethodRefused(f"This passkey or security key could not be checked: {error}") from None
    except MethodRefused:
        await session.commit()  # the challenge stays used
        raise
    row.sign_count, row.last_used_date_time = verified.new_sign_count, utcnow()
    session.add(row)
    await session.commit()
    return row
