"""What Foyer's OpenID Provider says about a person: the issuer and endpoints (discovery), and the
claims of ID and access tokens, shaped like Entra's v2.0 tokens so that existing apps map them.

ID token: iss, aud (the app's appId), sub (pairwise: one per app and person), oid, tid, iat, nbf,
exp, auth_time, amr ("otp", or "fed" when signed in at the guest's own identity provider), idp
("mail": email one-time passcode; else that provider's issuer), acct (0 member, 1 guest), ver "2.0",
nonce (when the app sent one), name and preferred_username (the UPN, with #EXT# for a guest;
scope `profile`), email (scope `email`), roles (app role values assigned, when any), groups (when
the app's groupMembershipClaims asks).
Access token (a JWT for the app itself, aud = appId): the same person claims plus scp and azp.
"""

import base64
import hashlib
from datetime import datetime

from foyer.models.directory import Application, Organization, User
from foyer.models.enums import UserType
from foyer.settings import get_settings
from foyer.usecases.app_access import AppAccess
from foyer.usecases.signing_keys import ALGORITHM, TOKEN_LIFETIME

SUPPORTED_SCOPES = ["openid", "profile", "email", "offline_access"]
IDP_EMAIL_OTP = "mail"
AMR_EMAIL_OTP = ["otp"]
# Signed in at their own identity provider (Entra's amr value for a federated sign-in).
AMR_FEDERATED = ["fed"]


def base_url(organization_id: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/{organization_id}"


def issuer(organization_id: str) -> str:
    return f"{base_url(organization_id)}/v2.0"


def discovery(organization_id: str) -> dict:
    base = base_url(organization_id)
    return {
        "issuer": issuer(organization_id),
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "userinfo_endpoint": f"{base}/openid/userinfo",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "scopes_supported": SUPPORTED_SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "select_account", "consent"],
        "claims_supported": ["iss", "aud", "sub", "oid", "tid", "iat", "nbf", "exp", "auth_time", "amr",
                             "idp", "acct", "ver", "nonce", "name", "preferred_username", "email", "email_verified",
                             "roles", "groups"],
        "request_uri_parameter_supported": False,
        "tenant_region_scope": None,
    }


def pairwise_sub(app: Application, user: User) -> str:
    """The `sub` one app sees for one person: stable (no secret key in it, so a key rotation does
    not change it) and different in every app."""
    digest = hashlib.sha256(f"foyer-pairwise-sub|{app.app_id}|{user.id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def scoped_claims(user: User, scopes: set[str]) -> dict:
    """What the `profile` and `email` scopes add, in tokens and at userinfo alike."""
    claims = {}
    if "profile" in scopes:
        claims["name"] = user.display_name
        claims["preferred_username"] = user.user_principal_name
    if "email" in scopes and user.mail:
        claims["email"] = user.mail
        # The organization vouches for the addresses in its directory: a member's is the
        # administrator's to set, a guest's was proven at redemption (a partner organization's
        # Foyer, federated with this one, links its people on it).
        claims["email_verified"] = True
    return claims


def _person(org: Organization, app: Application, user: User, access: AppAccess, scopes: set[str],
            idp: str | None) -> dict:
    claims = {
        "sub": pairwise_sub(app, user),
        "oid": user.id,
        "tid": org.id,
        # The upstream identity provider's issuer (google.com, an OpenID issuer, a SAML issuerUri).
        "idp": idp or IDP_EMAIL_OTP,
        "acct": 1 if user.user_type == UserType.guest else 0,
        "ver": "2.0",
    }
    claims.update(scoped_claims(user, scopes))
    if access.roles:
        claims["roles"] = list(access.roles)
    if (app.group_membership_claims or "None") != "None":
        claims["groups"] = list(access.groups)
    return claims


def id_token_claims(org: Organization, app: Application, user: User, access: AppAccess, *, scope: str,
                    auth_time: datetime, amr: list[str], nonce: str | None, now: datetime,
                    idp: str | None = None) -> dict:
    issued = int(now.timestamp())
    claims = {"iss": issuer(org.id), "aud": app.app_id, "iat": issued, "nbf": issued,
              "exp": issued + int(TOKEN_LIFETIME.total_seconds()),
              "auth_time": int(auth_time.timestamp()), "amr": list(amr or AMR_EMAIL_OTP),
              **_person(org, app, user, access, set(scope.split()), idp)}
    if nonce:
        claims["nonce"] = nonce
    return claims


def access_token_claims(org: Organization, app: Application, user: User, access: AppAccess, *, scope: str,
                        auth_time: datetime, amr: list[str], now: datetime, idp: str | None = None) -> dict:
    issued = int(now.timestamp())
    granted = [s for s in scope.split() if s != "openid"]
    return {"iss": issuer(org.id), "aud": app.app_id, "azp": app.app_id, "iat": issued, "nbf": issued,
            "exp": issued + int(TOKEN_LIFETIME.total_seconds()), "auth_time": int(auth_time.timestamp()),
            "amr": list(amr or AMR_EMAIL_OTP), "scp": " ".join(granted) or "openid",
            **_person(org, app, user, access, set(scope.split()), idp)}
