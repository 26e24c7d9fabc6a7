"""PostgreSQL text cannot hold a NUL character (U+0000). The app refuses one anywhere in a request —
JSON body (values and keys), query string, path, form fields (urlencoded and multipart), header
values — with a 400 Graph error before any router runs, the same on SQLite (which would store it
silently) as on PostgreSQL (which would fail with a 500)."""

import uuid

import pytest

from tests.support import unique_email

EM = "/v1.0/identityGovernance/entitlementManagement"


def _handle() -> str:
    return uuid.uuid4().hex[:10]


def _user(display_name: str) -> dict:
    handle = _handle()
    return {"displayName": display_name, "mail": f"{handle}@contoso.test",
            "userPrincipalName": f"{handle}@contoso.test"}


# (name, method, path, keyword arguments for httpx) — each carries one NUL somewhere.
NUL_REQUESTS = [
    ("group displayName", "POST", "/v1.0/groups", lambda: {"json": {"displayName": "nul\u0000group"}}),
    ("application displayName", "POST", "/v1.0/applications",
     lambda: {"json": {"displayName": f"nul\u0000app {_handle()}"}}),
    ("user flow attribute displayName", "POST", "/v1.0/identity/userFlowAttributes",
     lambda: {"json": {"displayName": f"Nul{_handle()}", "description": "a\u0000", "dataType": "string"}}),
    ("user displayName", "POST", "/v1.0/users", lambda: {"json": _user("N\u0000")}),
    ("invitation display name", "POST", "/v1.0/invitations",
     lambda: {"json": {"invitedUserEmailAddress": unique_email(), "invitedUserDisplayName": "N\u0000",
                       "inviteRedirectUrl": "https://app.contoso.test/"}}),
    ("catalog displayName", "POST", f"{EM}/catalogs", lambda: {"json": {"displayName": "nul\u0000catalog"}}),
    ("NUL in a JSON key", "POST", "/v1.0/groups",
     lambda: {"json": {"displayName": f"key {_handle()}", "descr\u0000iption": "x"}}),
    ("NUL deep in nested JSON", "POST", "/v1.0/applications",
     lambda: {"json": {"displayName": f"deep {_handle()}", "notes": {"list": ["ok", "n\u0000"]}}}),
    ("$filter", "GET", "/v1.0/users", lambda: {"params": {"$filter": "displayName eq 'a\x00'"}}),
    ("query parameter name", "GET", "/v1.0/groups", lambda: {"params": {"\x00": "x"}}),
    ("group id in the path", "GET", "/v1.0/groups/%00", lambda: {}),
    ("user id in the path", "PATCH", "/v1.0/users/a%00b", lambda: {"json": {"displayName": "x"}}),
    ("flow id in the path", "GET", "/v1.0/identity/b2xUserFlows/B2X_1_%00", lambda: {}),
    ("form field on the sign-in page", "POST", "/signin",
     lambda: {"data": {"email": "a\x00@contoso.test", "next": "/myaccess"}}),
    ("multipart form field on the sign-in page", "POST", "/signin",
     lambda: {"files": {"email": (None, "a\x00@contoso.test"), "next": (None, "/myaccess")}}),
    ("a CSV uploaded as multipart", "POST", "/v1.0/invitationCampaigns",
     lambda: {"files": {"file": ("guests.csv", b"email\nx\x00@contoso.test\n", "text/csv")},
              "data": {"dryRun": "true"}}),
    ("a header's value", "GET", "/v1.0/users", lambda: {"headers": {"X-Connector-Id": "a\x00b"}}),
    ("a quoted cookie's octal escape", "GET", "/myaccess", lambda: {"headers": {"Cookie": 'x="a\\000"'}}),
]


@pytest.mark.parametrize("name,method,path,make", NUL_REQUESTS, ids=[row[0] for row in NUL_REQUESTS])
async def test_nul_is_400_with_a_graph_error(api, admin, name, method, path, make):
    request = make()
    headers = {**admin, **request.pop("headers", {})}
    response = await api.request(method, path, headers=headers, **request)
    assert response.status_code == 400, (name, response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["code"] == "invalidRequest" and "NUL" in error["message"], (name, error)


async def test_nul_is_refused_before_authentication(api):
    # Nothing reads a request holding NUL, whoever sends it.
    response = await api.post("/v1.0/groups", json={"displayName": "a\u0000"})
    assert response.status_code == 400 and "NUL" in response.json()["error"]["message"]


async def test_text_that_only_looks_like_nul_is_accepted(api, admin):
    # An escaped backslash followed by "u0000", and a literal "%00" sent percent-encoded, are text.
    name = f"back\\u0000slash {_handle()}"
    created = await api.post("/v1.0/groups", headers=admin, json={"displayName": name})
    assert created.status_code == 201 and created.json()["displayName"] == name, created.text
    listed = await api.get("/v1.0/groups", headers=admin, params={"$filter": "displayName eq '100%00'"})
    assert listed.status_code == 200, listed.text


async def test_non_ascii_and_undecodable_query_strings_pass_the_check(api, admin):
    # The check reads any bytes: non-ASCII names and values, and percent-escapes that are not
    # UTF-8, go on to the router (found by the OpenAPI fuzzer: the first version of the check
    # answered 500 to "?ß=1").
    for query in ("%C3%9F=1", "x=%C3%9F", "%FF%FE=%80", "ß=ü"):
        response = await api.get(f"/v1.0/identity/signUps?{query}", headers=admin)
        assert response.status_code == 200, (query, response.text)
    form = await api.post("/signin", data={"email": "zoë@contoso.test", "next": "/myaccess"})
    assert form.status_code < 500, form.text
