"""Every parser the API has, fed bodies nested too deep, bodies too large, numbers that overflow
and query options built to exhaust the parser: the answer is a 4xx with Graph's error body, never
a 500. One table per parser family: JSON bodies (FastAPI's and the routers' own json.loads,
including the unauthenticated resume and sign-up callbacks), the campaign's CSV, page forms,
$filter, and the paging options."""

import base64
import json
import uuid

import pytest

from foyer.api.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_UPLOAD_BODY_BYTES
from foyer.api.odata import MAX_FILTER_DEPTH, MAX_FILTER_LENGTH

EM = "/v1.0/identityGovernance/entitlementManagement"
SOME_ID = str(uuid.UUID(int=7))

# Every JSON body parser: (method, path, authenticated?). The resume and sign-up callbacks are
# reachable without a token: their bodies are parsed before (or while) the signature is checked.
JSON_PARSERS = [
    ("POST", "/v1.0/users", True),
    ("POST", "/v1.0/groups", True),
    ("POST", "/v1.0/applications", True),
    ("POST", "/v1.0/invitations", True),
    ("PATCH", "/v1.0/policies/externalCollaborationPolicy", True),
    ("POST", f"{EM}/catalogs", True),
    ("POST", f"{EM}/assignmentPolicies", True),
    ("POST", f"{EM}/assignmentRequests", True),
    ("POST", f"{EM}/connectedOrganizations", True),
    ("POST", "/v1.0/identity/b2xUserFlows", True),
    ("POST", "/v1.0/identity/apiConnectors", True),
    ("POST", "/v1.0/invitationCampaigns", True),
    ("POST", f"/v1.0/identity/signUps/{SOME_ID}/approve", True),
    ("POST", f"{EM}/assignmentRequests/{SOME_ID}/resume", False),
    ("POST", f"/v1.0/identity/signUps/{SOME_ID}/verification", False),
    ("POST", f"/v1.0/identity/signUps/{SOME_ID}/approval", False),
]


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _assert_graph_error(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


# (name, body, expected statuses). Depth just past the limit, depth that breaks Python's json
# (RecursionError), depth that breaks it many times over, an object nested inside a property.
NESTING = [
    ("array just past the limit", '{"displayName": ' + nested(MAX_JSON_DEPTH) + "}", (400,)),
    ("array past Python's recursion limit", '{"displayName": ' + nested(5_000) + "}", (400,)),
    ("array 100,000 deep", nested(100_000), (400,)),
    ("objects 3,000 deep", deep_object(3_000), (400,)),
    ("unclosed 50,000 deep", "[" * 50_000, (400,)),
    ("rows nested in the campaign body", '{"rows": [' + nested(2_000) + "]}", (400,)),
]


@pytest.mark.parametrize("method,path,authenticated", JSON_PARSERS)
@pytest.mark.parametrize("name,content,statuses", NESTING, ids=[n[0] for n in NESTING])
async def test_deeply_nested_json_is_refused(api, admin, method, path, authenticated, name, content, statuses):
    headers = {**(admin if authenticated else {}), "Content-Type": "application/json"}
    response = await api.request(method, path, headers=headers, content=content)
    error = _assert_graph_error(response, *statuses)
    assert "nested" in error["message"], error


async def test_nesting_within_the_limit_reaches_the_router(api, admin):
    """The bound is on depth, not on JSON itself: a body nested less deeply than the limit is
    read and judged by the endpoint as before (here: a list where a name belongs)."""
    response = await api.post("/v1.0/groups", headers=admin,
                              json={"displayName": json.loads(nested(MAX_JSON_DEPTH - 2))})
    error = _assert_graph_error(response, 400)
    assert "nested" not in error["message"] and "displayName" in error["message"], error
    name = "Brackets " + "[{" * 60 + ' \\" [[ in a name'
    ok = await api.post("/v1.0/groups", headers=admin, json={"displayName": name})
    assert ok.status_code == 201, ok.text  # brackets inside strings are not nesting
    assert ok.json()["displayName"] == name


# Bodies that are big without being deep: refused for their size (413), or parsed and refused
# as the client's error, never a 500 nor a worker stuck on them.
@pytest.mark.parametrize("method,path,authenticated",
                         [p for p in JSON_PARSERS if p[1] != "/v1.0/invitationCampaigns"])  # its own limit: below
async def test_too_large_json_body_is_413(api, admin, method, path, authenticated):
    content = '{"displayName": "' + "x" * MAX_BODY_BYTES + '"}'
    headers = {**(admin if authenticated else {}), "Content-Type": "application/json"}
    response = await api.request(method, path, headers=headers, content=content)
    _assert_graph_error(response, 413)


async def test_too_large_campaign_upload_is_413(api, admin):
    content = b"x" * (MAX_UPLOAD_BODY_BYTES + 1)
    response = await api.post("/v1.0/invitationCampaigns", headers=admin,
                              files={"file": ("huge.csv", content, "text/csv")})
    _assert_graph_error(response, 413)
    as_json = await api.post("/v1.0/invitationCampaigns", headers={**admin, "Content-Type": "application/json"},
                             content=b'{"rows": [], "x": "' + content + b'"}')
    _assert_graph_error(as_json, 413)


async def test_body_size_is_counted_without_content_length(api, admin):
    """A chunked body (no Content-Length) is counted as it arrives."""
    async def chunks():
        for _ in range(MAX_BODY_BYTES // 65_536 + 2):
            yield b"[" + b" " * 65_534 + b"]"

    response = await api.post("/v1.0/groups", headers={**admin, "Content-Type": "application/json"},
                              content=chunks())
    _assert_graph_error(response, 413)


WIDE_AND_ODD = [
    ("a million-element array", "[" + ",".join(["0"] * 1_000_000) + "]"),
    ("100,000 keys", "{" + ",".join(f'"k{i}":0' for i in range(100_000)) + "}"),
    ("a 5,000-digit number", '{"displayName": ' + "9" * 5_000 + "}"),
    ("an overflowing float", '{"displayName": 1e999999}'),
    ("NaN", '{"displayName": NaN}'),
    ("a lone surrogate", '{"displayName": "\\ud800"}'),
    ("not UTF-8", b'{"displayName": "\xff\xfe"}'),
]


@pytest.mark.parametrize("method,path,authenticated", JSON_PARSERS)
@pytest.mark.parametrize("name,content", WIDE_AND_ODD, ids=[n[0] for n in WIDE_AND_ODD])
async def test_wide_or_odd_json_is_4xx(api, admin, method, path, authenticated, name, content):
    headers = {**(admin if authenticated else {}), "Content-Type": "application/json"}
    response = await api.request(method, path, headers=headers, content=content)
    _assert_graph_error(response, 400, 401, 404, 409)


# --- the campaign's CSV ---------------------------------------------------------------------

CSV_HEADER = "version:v1.0\nEmail address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required\n"
CSV_BAD = [
    ("a field over the csv module's limit", CSV_HEADER + '"' + "a" * 200_000 + '",https://x.test\n'),
    ("a header of 10,000 columns", "version:v1.0\n" + ",".join(["[inviteeEmail]"] + [f"c{i}" for i in range(10_000)]) + "\n"),
    ("a row of 10,000 cells", CSV_HEADER + "a@fabrikam.example,https://x.test," + ",".join(["x"] * 10_000) + "\n"),
    ("a NUL byte", CSV_HEADER + "a\x00b@fabrikam.example,https://x.test\n"),
]


@pytest.mark.parametrize("name,content", CSV_BAD, ids=[n[0] for n in CSV_BAD])
async def test_bad_campaign_csv_is_400(api, admin, name, content):
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, data={"dryRun": "true"},
                              files={"file": ("bad.csv", content.encode(), "text/csv")})
    error = _assert_graph_error(response, 400)
    # A NUL is refused app-wide before the CSV is read (api.errors.RefuseNul); the rest name the line.
    assert "line" in error["message"] or "header" in error["message"] or (
        "\x00" in content and "NUL" in error["message"]), error


async def test_unterminated_quote_is_a_row_verdict(api, admin):
    """The csv module reads an unterminated quote to the end of the file: one row, judged."""
    content = CSV_HEADER + '"a@fabrikam.example,https://x.test\n' + "b,c\n" * 10
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, data={"dryRun": "true"},
                              files={"file": ("bad.csv", content.encode(), "text/csv")})
    assert response.status_code == 200, response.text
    assert [row["verdict"] for row in response.json()["rows"]] == ["invalid"]


JSON_ROW_JUNK = [
    ("message as an object", {"customizedMessageBody": {"a": 1}}),
    ("name as a list", {"invitedUserDisplayName": ["x"]}),
    ("group ids as a string", {"foyerPreAssignedGroupIds": "abc"}),
    ("group ids of numbers", {"foyerPreAssignedGroupIds": [1, 2]}),
    ("package ids of objects", {"foyerAccessPackageIds": [{"id": "x"}]}),
    ("address as a number", {"invitedUserEmailAddress": 7}),
    ("send as a list", {"sendInvitationMessage": []}),
]


@pytest.mark.parametrize("name,junk", JSON_ROW_JUNK, ids=[n[0] for n in JSON_ROW_JUNK])
async def test_campaign_json_rows_of_the_wrong_type_are_400(api, admin, name, junk):
    row = {"invitedUserEmailAddress": "a@fabrikam.example", "inviteRedirectUrl": "https://x.test", **junk}
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, json={"dryRun": True, "rows": [row]})
    error = _assert_graph_error(response, 400)
    assert "row 1" in error["message"], error


@pytest.mark.parametrize("options", [{"displayName": {"a": 1}}, {"displayName": ["x"]},
                                     {"ratePerMinute": [1]}, {"concurrency": {"n": 1}},
                                     {"ratePerMinute": 10 ** 30}, {"ratePerMinute": 1e308}])
async def test_campaign_options_of_the_wrong_type_are_400(api, admin, options):
    body = {"rows": [{"invitedUserEmailAddress": "a@fabrikam.example", "inviteRedirectUrl": "https://x.test"}],
            **options}
    response = await api.post("/v1.0/invitationCampaigns", headers=admin, json=body)
    _assert_graph_error(response, 400)


# --- page forms -----------------------------------------------------------------------------

async def test_too_large_page_form_is_413(api):
    response = await api.post("/signin", data={"email": "x" * (MAX_BODY_BYTES + 1)})
    _assert_graph_error(response, 413)


# --- $filter --------------------------------------------------------------------------------

def _chain(depth: int, clause: str = "displayName eq 'a'") -> str:
    return " and ".join([clause] * depth)


# Each filtered collection with a text property of its own ($filter is parsed, then checked
# against the collection's properties: the bounds must hold before either).
FILTERED = {"/v1.0/users": "displayName", "/v1.0/groups": "displayName",
            "/v1.0/auditLogs/directoryAudits": "activityDisplayName", f"{EM}/assignmentRequests": "state",
            f"{EM}/accessPackages": "displayName"}
FILTERS = [
    ("longer than the limit", lambda p: f"{p} eq '" + "a" * MAX_FILTER_LENGTH + "'"),
    ("a chain deeper than the limit", lambda p: _chain(MAX_FILTER_DEPTH + 1, f"{p} eq 'a'")),
    ("490 nots", lambda p: "not " * 490 + f"{p} eq 'a'"),
    ("1,990 unary minuses", lambda p: f"{p} eq " + "-" * 1_990 + "1"),
    ("an integer beyond 64 bits", lambda p: f"{p} eq 99999999999999999999999999999"),
]


@pytest.mark.parametrize("path", FILTERED)
@pytest.mark.parametrize("name,text", FILTERS, ids=[f[0] for f in FILTERS])
async def test_filter_that_exhausts_the_parser_is_400(api, admin, make_token, make_member, path, name, text):
    """Any member may send these (the audit log is an administrator's)."""
    member = await make_member()
    headers = admin if "auditLogs" in path else await make_token("member", user_id=member.id)
    response = await api.get(path, headers=headers, params={"$filter": text(FILTERED[path])})
    _assert_graph_error(response, 400)


async def test_reasonable_filters_still_work(api, admin, make_member):
    member = await make_member("Filter Target")
    chained = " or ".join([f"id eq '{member.id}'"] * 20)
    listed = " , ".join(f"'{uuid.uuid4()}'" for _ in range(40))
    deep = _chain(MAX_FILTER_DEPTH - 1, "displayName ne 'x'") + f" and id eq '{member.id}'"
    for text in (chained, f"id in ('{member.id}', {listed})", deep):
        response = await api.get("/v1.0/users", headers=admin, params={"$filter": text})
        assert response.status_code == 200, (text[:80], response.text)
        assert [u["id"] for u in response.json()["value"]] == [member.id], text[:80]


# --- paging ---------------------------------------------------------------------------------

def _token(offset) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


SKIPTOKENS = [
    ("an offset beyond 64 bits", _token(2 ** 64)),
    ("an offset of 10^30", _token(10 ** 30)),
    ("the largest 64-bit offset", _token(2 ** 63 - 1)),
    ("a negative offset", _token(-1)),
    ("a fractional offset", _token(1.5)),
    ("an offset as a boolean", _token(True)),
    ("an offset as text", _token("12")),
    ("an offset as a huge float", base64.urlsafe_b64encode(b'{"o": 1e400}').decode()),
    ("a 5,000-digit offset", base64.urlsafe_b64encode(b'{"o": ' + b"9" * 5_000 + b"}").decode()),
    ("a nested token", base64.urlsafe_b64encode(nested(5_000).encode()).decode()),
    ("a long token", "A" * 10_000),
]


@pytest.mark.parametrize("path", FILTERED)
@pytest.mark.parametrize("name,token", SKIPTOKENS, ids=[s[0] for s in SKIPTOKENS])
async def test_bad_skiptoken_is_400(api, admin, make_member, path, name, token):
    await make_member()
    response = await api.get(path, headers=admin, params={"$skiptoken": token})
    _assert_graph_error(response, 400)


@pytest.mark.parametrize("params", [{"$top": "9" * 5_000}, {"$top": "1e3"},
                                    {"$orderby": "displayName desc desc"},
                                    {"$orderby": "displayName " * 1_000},
                                    {"$select": "id," + "displayName," * 1_000 + "nope"},
                                    {"$count": "true", "$filter": "not " * 490 + "accountEnabled"}])
async def test_other_query_options_are_4xx(api, admin, make_member, params):
    await make_member()
    response = await api.get("/v1.0/users", headers=admin, params=params)
    _assert_graph_error(response, 400)


async def test_the_next_link_still_pages(api, admin, make_member):
    for index in range(3):
        await make_member(f"Pager {index}")
    first = (await api.get("/v1.0/users", headers=admin, params={"$top": "1"})).json()
    following = await api.get(first["@odata.nextLink"], headers=admin)
    assert following.status_code == 200, following.text
    assert following.json()["value"][0]["id"] != first["value"][0]["id"]


# --- the net under every other parser -------------------------------------------------------

async def test_a_recursion_error_anywhere_is_400_not_500(organization_id):
    """Whatever parser recurses too deep on a client's input (one not bounded above), the answer
    is Graph's 400: the application's handler, on an application of its own with a route that
    recurses on what it is sent."""
    import httpx

    from foyer.api.main import create_app

    app = create_app(temporal_client=object())

    @app.get("/recurse")
    async def recurse(depth: int):
        def down(n):
            return n if n == 0 else down(n - 1) + 1
        return {"depth": down(depth)}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        shallow = await client.get("/recurse", params={"depth": 10})
        assert shallow.status_code == 200 and shallow.json() == {"depth": 10}
        deep = await client.get("/recurse", params={"depth": 100_000})
    error = _assert_graph_error(deep, 400)
    assert "nested too deeply" in error["message"]


@pytest.mark.parametrize("address", ["a\x01b@fabrikam.example", "a\x7fb@fabrikam.example",
                                     "a\x85b@fabrikam.example", "a\r\nBcc: c@fabrikam.example"])
async def test_an_address_with_a_control_character_is_400(api, admin, address):
    response = await api.post("/v1.0/invitations", headers=admin, json={
        "invitedUserEmailAddress": address, "inviteRedirectUrl": "https://app.contoso.test"})
    error = _assert_graph_error(response, 400)
    assert "invitedUserEmailAddress" in error["message"], error


def test_an_object_with_too_many_members_is_refused_before_any_parser():
    """100,000 unknown keys cost pydantic and FastAPI seconds of CPU to list as errors, on the
    event loop: an object of more than MAX_OBJECT_MEMBERS members is refused by the body scan.
    Many small objects (a campaign's rows) and colons inside strings do not count."""
    from foyer.api.limits import MAX_OBJECT_MEMBERS, json_shape_refusal

    def members(n: int) -> bytes:
        return ("{" + ",".join(f'"k{i}":0' for i in range(n)) + "}").encode()

    assert "more than 1000 members" in json_shape_refusal(members(MAX_OBJECT_MEMBERS + 1))
    assert json_shape_refusal(members(MAX_OBJECT_MEMBERS)) is None
    rows = ('{"rows": [' + ",".join('{"a": 1, "b": "x:y", "c": {"d": 2}}' for _ in range(20_000)) + "]}").encode()
    assert json_shape_refusal(rows) is None
    assert json_shape_refusal(('{"k": "' + ":" * 50_000 + '"}').encode()) is None
    nested = ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode()
    assert "nested more than" in json_shape_refusal(nested)


async def test_wide_object_answers_400_naming_the_limit(api, admin):
    body = "{" + ",".join(f'"k{i}":0' for i in range(100_000)) + "}"
    response = await api.post("/v1.0/groups", headers={**admin, "Content-Type": "application/json"}, content=body)
    assert "more than 1000 members" in _assert_graph_error(response, 400)["message"]
