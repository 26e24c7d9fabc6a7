"""Which redirect URIs an application may register, and whether a URI an authorization request
names is one of them: the application registration API (POST/PATCH /v1.0/applications) and the
OpenID Provider's /authorize and /token ask here, so both read the same rule.

A redirect URI is https, or http on the developer's own machine (`localhost` or `127.0.0.1`, any
port), as Entra allows; never with a fragment (RFC 6749 §3.1.2) nor a wildcard; at most
MAX_LENGTH characters, and at most MAX_COUNT of them on an application (web, spa and publicClient
together). Matching is exact, character for character (OAuth 2.0 Security BCP §4.1.3): no prefix,
no case folding, no trailing-slash leniency.
"""

from urllib.parse import urlsplit

MAX_LENGTH = 256
MAX_COUNT = 256
LOCAL_HOSTS = ("localhost", "127.0.0.1")

# Graph's property names for the three kinds, and the kinds that are public clients (PKCE, no
# secret). An `app` passed to the functions below is a models.directory.Application (or anything
# with these attributes).
KINDS = {"web": "web_redirect_uris", "spa": "spa_redirect_uris", "publicClient": "public_client_redirect_uris"}
PUBLIC_KINDS = frozenset({"spa", "publicClient"})


def redirect_uri_problem(uri: object) -> str | None:
    """Why `uri` may not be registered as a redirect URI, or None when it may."""
    if not isinstance(uri, str) or not uri:
        return "a redirect URI is a non-empty string"
    if len(uri) > MAX_LENGTH:
        return f"a redirect URI is at most {MAX_LENGTH} characters"
    if "*" in uri:
        return f"{uri}: wildcards are not allowed in redirect URIs"
    if "#" in uri:
        return f"{uri}: a redirect URI may not contain a fragment (#)"
    if any(c.isspace() or ord(c) < 0x20 for c in uri):
        return f"{uri}: a redirect URI may not contain spaces or control characters"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return f"{uri} is not a valid URL"
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return f"{uri}: a redirect URI is an absolute URL with a host and no user name"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return None
    return (f"{uri}: a redirect URI must use https (http only for http://localhost or "
            f"http://127.0.0.1, for development)")


def redirect_uris_problem(uris: list[str], *, others: int = 0) -> str | None:
    """Why the list `uris` may not be registered, or None. `others`: how many redirect URIs the
    application keeps under its other kinds (the limit counts them all)."""
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem:
            return problem
    if len(set(uris)) != len(uris):
        return "a redirect URI is listed twice"
    if len(uris) + others > MAX_COUNT:
        return f"an application has at most {MAX_COUNT} redirect URIs (web, spa and publicClient together)"
    return None


def home_page_url_problem(url: object) -> str | None:
    """Why `url` may not be an application's web.homePageUrl (My Apps links to it), or None."""
    if not isinstance(url, str) or not url:
        return "homePageUrl is a non-empty string"
    if len(url) > MAX_LENGTH:
        return f"homePageUrl is at most {MAX_LENGTH} characters"
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        return "homePageUrl may not contain spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{url} is not a valid URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "homePageUrl is an absolute http or https URL"
    return None


def registered_kind(app, redirect_uri: str) -> str | None:
    """"web", "spa" or "publicClient": under which kind `app` registered `redirect_uri` (an exact
    match), or None when it did not. web is a confidential client (authenticates with a client
    secret); spa and publicClient are public clients (PKCE, no secret)."""
    for kind, attribute in KINDS.items():
        if redirect_uri in (getattr(app, attribute) or []):
            return kind
    return None


def is_registered(app, redirect_uri: str) -> bool:
    """Whether `redirect_uri` is exactly one of `app`'s registered redirect URIs."""
    return registered_kind(app, redirect_uri) is not None
