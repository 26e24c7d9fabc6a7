"""Registration input Graph refuses is a Graph 400, on POST and PATCH, and nothing is stored:
redirect URIs that are not https (http only on localhost / 127.0.0.1), with a fragment or a
wildcard, too long, too many or listed twice; a home page that is not an http(s) URL; group
claims Foyer does not know; client secrets set directly instead of through addPassword."""

import uuid

import pytest

from foyer.rules.redirect_uris import MAX_COUNT, MAX_LENGTH, redirect_uri_problem

BAD_REDIRECT_URIS = [
    "http://wiki.example/cb",            # http off the developer's machine
    "http://localhost.evil.example/cb",  # not localhost
    "https://wiki.example/cb#frag",       # a fragment
    "https://*.wiki.example/cb",          # a wildcard
    "https://wiki.example/*",
    "https://wiki.example/" + "a" * MAX_LENGTH,  # too long
    "ftp://wiki.example/cb", "javascript:alert(1)", "/relative/cb", "", "https://user@wiki.example/cb",
    "https://wiki.example/c b", "https://wiki.example:notaport/cb",
]
GOOD_REDIRECT_URIS = ["https://wiki.example/cb", "http://localhost/cb", "http://localhost:5000/cb",
                      "http://127.0.0.1:8080", "https://wiki.example/cb?x=1"]


@pytest.mark.parametrize("uri", GOOD_REDIRECT_URIS)
def test_the_rule_accepts(uri):
    assert redirect_uri_problem(uri) is None


@pytest.mark.parametrize("uri", BAD_REDIRECT_URIS)
async def test_a_bad_redirect_uri_is_400_on_post_and_patch(api, admin, uri):
    assert redirect_uri_problem(uri) is not None
    for kind in ("web", "spa", "publicClient"):
        refused = await api.post("/v1.0/applications", headers=admin,
                                 json={"displayName": "Bad", kind: {"redirectUris": [uri]}})
        assert refused.status_code == 400, (kind, refused.text)
        assert refused.json()["error"]["code"] and refused.json()["error"]["message"]
    app = (await api.post("/v1.0/applications", headers=admin, json={"displayName": "Good"})).json()
    refused = await api.patch(f"/v1.0/applications/{app['id']}", headers=admin,
                              json={"web": {"redirectUris": ["https://ok.example/cb", uri]}})
    assert refused.status_code == 400, refused.text
    assert (await api.get(f"/v1.0/applications/{app['id']}", headers=admin)).json()["web"]["redirectUris"] == []


async def test_too_many_or_repeated_redirect_uris_are_400(api, admin):
    many = [f"https://wiki.example/cb/{n}" for n in range(MAX_COUNT)]
    app = (await api.post("/v1.0/applications", headers=admin,
                          json={"displayName": "Full", "web": {"redirectUris": many}})).json()
    assert len(app["web"]["redirectUris"]) == MAX_COUNT
    # The limit counts the three kinds together.
    one_more = await api.patch(f"/v1.0/applications/{app['id']}", headers=admin,
                               json={"spa": {"redirectUris": ["https://spa.example/"]}})
    assert one_more.status_code == 400 and str(MAX_COUNT) in one_more.json()["error"]["message"]
    twice = await api.post("/v1.0/applications", headers=admin, json={
        "displayName": "Twice", "web": {"redirectUris": ["https://a.example/cb", "https://a.example/cb"]}})
    assert twice.status_code == 400 and "twice" in twice.json()["error"]["message"]


@pytest.mark.parametrize("body", [
    {"web": {"homePageUrl": "javascript:alert(1)"}},
    {"web": {"homePageUrl": "wiki.example"}},
    {"web": {"logoutUrl": "https://wiki.example/logout", "redirectUris": []}},
    {"groupMembershipClaims": "DirectoryRole"},
    {"groupMembershipClaims": 3},
    {"appRoleAssignmentRequired": "yes"},
    {"passwordCredentials": [{"secretText": "chosen-by-me"}]},
    {"optionalClaims": {"idToken": [{"name": ""}]}},
    {"optionalClaims": {"idToken": [{"name": "email", "source": "user"}]}},
    {"appId": str(uuid.uuid4())},
])
async def test_other_bad_registration_input_is_400(api, admin, body):
    refused = await api.post("/v1.0/applications", headers=admin, json={"displayName": "Bad", **body})
    assert refused.status_code == 400, (body, refused.text)
    app = (await api.post("/v1.0/applications", headers=admin, json={"displayName": "Good"})).json()
    refused = await api.patch(f"/v1.0/applications/{app['id']}", headers=admin, json=body)
    assert refused.status_code == 400, (body, refused.text)
    assert (await api.get(f"/v1.0/applications/{app['id']}", headers=admin)).json() == app


async def test_patch_with_nothing_or_nulls_is_400(api, admin):
    app = (await api.post("/v1.0/applications", headers=admin, json={"displayName": "Good"})).json()
    for body in ({}, {"displayName": None}, {"appRoleAssignmentRequired": None}):
        refused = await api.patch(f"/v1.0/applications/{app['id']}", headers=admin, json=body)
        assert refused.status_code == 400, (body, refused.text)
    missing = await api.patch(f"/v1.0/applications/{uuid.uuid4()}", headers=admin, json={"displayName": "X"})
    assert missing.status_code == 404
