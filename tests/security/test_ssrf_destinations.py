"""Server-side request forgery: Foyer calls configured URLs (custom extension targetUrls, which
catalog owners create, and API connector targetUrls) only where the host RESOLVES to a public
address, at creation and again at call time, whatever the spelling of the address.

The table below is the proof: every spelling of a loopback, link-local (cloud metadata),
private, shared, unspecified or multicast address is refused at creation for both kinds of URL,
with the loopback allowance the suite normally has (FOYER_OUTBOUND_ALLOWED_NETWORKS, set in
tests/conftest.py because the suite's servers listen on 127.0.0.1) taken away, as production has
it. Then: a URL accepted while loopback was allowed is refused at call time without any request
reaching the server (the sign-up is blocked, the access request denied, the audit and the call
row say why); and the transport connects only to the address it checked, so a DNS answer that
changes between creation and call, or a name only our resolver knows, cannot slip past."""

import html
import ipaddress

import httpx
import pytest
from sqlmodel import select

from foyer.activities.api_connectors import GENERIC_MESSAGE
from foyer.workflows.client import access_requests
from foyer.db import session_scope
from foyer.settings import get_settings
from foyer.models.audit import AuditRecord
from foyer.models.entitlement import AssignmentPolicy, AssignmentRequest, Catalog, CustomExtensionCall
from tests.connector_server import call, connector_server
from tests.factories import make_package, make_user, request, self_service
from tests.extension_receiver import ExtensionReceiver
from tests.sign_up_support import result_state, sign_up_row, submit_attributes, through_code
from tests.factories import make_flow
from tests.support import unique_email
from foyer.workflows.access_request import AccessRequestWorkflow

CONNECTORS = "/v1.0/identity/apiConnectors"
EM = "/v1.0/identityGovernance/entitlementManagement"
# A public address (TEST-NET would be refused as non-public), only ever resolved, never called.
PUBLIC = "93.184.216.34"

# (host part of the URL, what the refusal must name). Several names depend on the resolver of the
# machine: refused either way, the accepted reasons are listed.
UNRESOLVED_OR_LOOPBACK = ("does not resolve", "loopback")
SPELLINGS = [
    ("127.0.0.1", "loopback"),
    ("127.0.0.1:8233", "loopback"),  # the Temporal Web UI the worker once reached
    ("127.1", "loopback"),
    ("2130706433", "loopback"),
    ("0x7f000001", "loopback"),
    ("0177.0.0.1", "loopback"),
    ("017700000001", "loopback"),
    ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("[::ffff:7f00:1]", "loopback"),
    ("[::127.0.0.1]", "loopback"),  # IPv4-compatible IPv6
    ("[2002:7f00:1::1]", "loopback"),  # 6to4 around 127.0.0.1
    ("[64:ff9b::a9fe:a9fe]", "link-local"),  # NAT64 around 169.254.169.254
    ("localhost", "loopback"),
    ("LOCALHOST.", "loopback"),
    ("anything.localhost", "loopback"),
    ("localhost.localdomain", UNRESOLVED_OR_LOOPBACK),
    ("127.0.0.1.nip.io", UNRESOLVED_OR_LOOPBACK),
    ("0.0.0.0", "unspecified"),
    ("0", "unspecified"),
    ("[::]", "unspecified"),
    ("169.254.169.254", "link-local"),
    ("[fe80::1]", "link-local"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "shared"),
    ("[fc00::1]", "private"),
    ("[fec0::1]", "site-local"),
    ("224.0.0.1", "multicast"),
    ("[ff02::1]", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("192.0.2.1", "non-public"),
    ("example.org@127.0.0.1", "loopback"),  # userinfo: the host is what follows the @
    ("example.org:443@127.0.0.1:8233", "loopback"),
]


@pytest.fixture
def production_rule(monkeypatch):
    """The default of a production install: no non-public network allowed (restored after)."""
    monkeypatch.setattr(get_settings(), "outbound_allowed_networks", "")


@pytest.fixture
async def owner_catalog(make_token, organization_id):
    """A catalog owned by an ordinary member, and that member's headers: who may add extensions."""
    owner = await make_user(organization_id, "Olga Owner")
    package, policy, _, _ = await make_package(organization_id, policy=self_service())
    async with session_scope() as session:
        catalog = await session.get(Catalog, package.catalog_id)
        catalog.owner_ids = [owner.id]
        session.add(catalog)
    return package, policy, await make_token("member", user_id=owner.id)


def extension_body(target_url: str, *, blocking: bool = False) -> dict:
    body = {"displayName": "Partner approval system",
            "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint",
                                      "targetUrl": target_url}}
    if blocking:
        body["callbackConfiguration"] = {"@odata.type": "#microsoft.graph.customExtensionCallbackConfiguration",
                                         "timeoutDuration": "PT1H"}
    return body


def assert_refused(response: httpx.Response, reasons) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalidRequest", error
    reasons = (reasons,) if isinstance(reasons, str) else reasons
    assert any(reason in error["message"] for reason in reasons), error["message"]


@pytest.mark.parametrize("host, reason", SPELLINGS, ids=[s[0] for s in SPELLINGS])
async def test_every_spelling_is_refused_at_creation(api, admin, owner_catalog, production_rule, host, reason):
    package, _, owner = owner_catalog
    for scheme in ("https", "http"):
        created = await api.post(f"{EM}/catalogs/{package.catalog_id}/customWorkflowExtensions",
                                 headers=owner, json=extension_body(f"{scheme}://{host}/hook"))
        assert_refused(created, reason)
    created = await api.post(CONNECTORS, headers=admin, json={
        "displayName": "Internal", "targetUrl": f"https://{host}/hook"})
    assert_refused(created, reason)
    # Nothing was stored.
    listed = await api.get(f"{EM}/catalogs/{package.catalog_id}/customWorkflowExtensions", headers=owner)
    assert listed.json()["value"] == []
    connectors = (await api.get(CONNECTORS, headers=admin)).json()["value"]
    assert f"https://{host}/hook" not in [c["targetUrl"] for c in connectors]


async def test_an_update_to_an_internal_url_is_refused(api, admin, production_rule):
    created = await api.post(CONNECTORS, headers=admin, json={
        "displayName": "Partner", "targetUrl": f"https://{PUBLIC}/hook"})
    assert created.status_code == 201, created.text
    changed = await api.patch(f"{CONNECTORS}/{created.json()['id']}", headers=admin,
                              json={"targetUrl": "https://169.254.169.254/latest/meta-data/"})
    assert_refused(changed, "link-local")
    shown = (await api.get(f"{CONNECTORS}/{created.json()['id']}", headers=admin)).json()
    assert shown["targetUrl"] == f"https://{PUBLIC}/hook"


async def test_public_destinations_are_accepted(api, admin, owner_catalog, production_rule, monkeypatch):
    """The control: a public address, literal or by name, is accepted for both kinds of URL."""
    from foyer import outbound

    async def public(host, port):
        return [PUBLIC] if host == "partner.example" else await real(host, port)

    real = outbound.resolve
    monkeypatch.setattr(outbound, "resolve", public)
    package, _, owner = owner_catalog
    for url in (f"https://{PUBLIC}/hook", "https://partner.example/hook"):
        created = await api.post(f"{EM}/catalogs/{package.catalog_id}/customWorkflowExtensions",
                                 headers=owner, json=extension_body(url))
        assert created.status_code == 201, created.text
        created = await api.post(CONNECTORS, headers=admin, json={"displayName": "Partner", "targetUrl": url})
        assert created.status_code == 201, created.text


async def test_an_operator_may_allow_an_internal_network(api, admin, monkeypatch):
    monkeypatch.setattr(get_settings(), "outbound_allowed_networks", "10.20.0.0/16")
    allowed = await api.post(CONNECTORS, headers=admin, json={"displayName": "Approvals",
                                                               "targetUrl": "https://10.20.3.4/approve"})
    assert allowed.status_code == 201, allowed.text
    for host, reason in (("10.21.0.1", "private"), ("127.0.0.1", "loopback"),
                         ("169.254.169.254", "link-local")):
        refused = await api.post(CONNECTORS, headers=admin, json={"displayName": "x",
                                                                   "targetUrl": f"https://{host}/"})
        assert_refused(refused, reason)


# --- the rule on resolved addresses --------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "10.1.2.3", "172.31.255.255", "192.168.0.1", "100.64.0.1",
    "100.127.255.255", "169.254.169.254", "169.254.0.1", "224.0.0.251", "239.255.255.250",
    "255.255.255.255", "240.0.0.1", "192.0.0.8", "198.18.0.1", "::1", "::", "fe80::1", "fe80::1%1",
    "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "::127.0.0.1", "::a00:1", "2002:7f00:1::", "2002:a9fe:a9fe::1",
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "2001::1", "2001:db8::1", "100::1",
])
def test_non_public_addresses_are_refused(production_rule, address):
    from foyer.outbound import destination_allowed, refusal

    assert not destination_allowed(address)
    assert refusal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001::1",
    "::ffff:93.184.216.34", "64:ff9b::808:808", "2002:5db8:d822::1",
])
def test_public_addresses_are_allowed(production_rule, address):
    from foyer.outbound import destination_allowed

    assert destination_allowed(address)


def test_allowed_networks_open_only_what_they_name(monkeypatch):
    from foyer.outbound import destination_allowed

    monkeypatch.setattr(get_settings(), "outbound_allowed_networks", "127.0.0.0/8, 10.20.0.0/16")
    assert destination_allowed("127.0.0.1") and destination_allowed("::ffff:127.0.0.1")
    assert destination_allowed("10.20.3.4")
    assert not destination_allowed("10.21.0.1") and not destination_allowed("::1")
    assert not destination_allowed("169.254.169.254")
    monkeypatch.setattr(get_settings(), "outbound_allowed_networks", "0.0.0.0/0, ::/0")
    # Never, even under an allow-all: the unspecified address, multicast and broadcast.
    for address in ("0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255"):
        assert not destination_allowed(address), address


# --- at call time ----------------------------------------------------------------------------------

async def test_a_connector_to_loopback_is_refused_at_call_time(server, api, admin, mail, organization_id,
                                                                monkeypatch):
    """Created while loopback was allowed; called after it no longer is: the sign-up is blocked
    like an unreachable connector, no request reaches the server, the audit says why."""
    async with connector_server() as connectors:
        created = await api.post(CONNECTORS, headers=admin, json={
            "displayName": "Partner registry", "targetUrl": connectors.url})
        assert created.status_code == 201, created.text
        connector_id = created.json()["id"]
        monkeypatch.setattr(get_settings(), "outbound_allowed_networks", "")
        flow_id = await make_flow(organization_id, post_attribute_collection_connector_id=connector_id)
        email = unique_email()
        async with httpx.AsyncClient(base_url=server, timeout=30) as client:
            sign_up_id, _ = await through_code(client, mail, flow_id, email)
            page = await submit_attributes(client, flow_id, sign_up_id, email, displayName="Rita Refused",
                                           country="NO")
            assert page.status_code == 400, page.text[:800]
            assert result_state(page.text) == "blocked"
            assert GENERIC_MESSAGE in html.unescape(page.text)
            assert "127.0.0.1" not in page.text  # the reason is for the audit, not the person
        assert connectors.requests == []

    row = await sign_up_row(email)
    assert (row.state, row.reason, row.user_id) == ("blocked", GENERIC_MESSAGE, None)
    async with session_scope() as session:
        records = (await session.exec(select(AuditRecord).where(
            AuditRecord.workflow_id == f"signup:{sign_up_id}",
            AuditRecord.activity_display_name == "Call API connector"))).all()
    [record] = records
    assert record.result == "failure"
    assert record.details["detail"] == "destination refused: 127.0.0.1 is a loopback address"
    assert record.result_reason == record.details["detail"]


async def request_with_extension(api, temporal, owner_catalog, target_url: str, before_call) -> tuple:
    """A catalog owner adds a blocking extension at `target_url` (must be accepted) to the policy;
    `before_call()` runs; a guest's request then meets the extension. → (final state, request
    row, the callout rows)."""
    package, policy, owner = owner_catalog
    created = await api.post(f"{EM}/catalogs/{package.catalog_id}/customWorkflowExtensions",
                             headers=owner, json=extension_body(target_url, blocking=True))
    assert created.status_code == 201, created.text
    async with session_scope() as session:
        row = await session.get(AssignmentPolicy, policy.id)
        row.custom_extension_stage_settings = [
            {"stage": "assignmentRequestCreated", "customExtension": {"id": created.json()["id"]}}]
        session.add(row)
    before_call()
    guest = await make_user(package.organization_id, "Ivo Guest", guest=True)
    spec = request(package.organization_id, package, policy, guest)
    await access_requests.submit_request(temporal.client, spec)
    handle = temporal.client.get_workflow_handle_for(AccessRequestWorkflow.run,
                                                     f"access-request:{package.id}:{guest.id}")
    final = await handle.result()
    async with session_scope() as session:
        stored = await session.get(AssignmentRequest, spec.request_id)
        calls = (await session.exec(select(CustomExtensionCall).where(
            CustomExtensionCall.request_id == spec.request_id))).all()
    return final, stored, calls


async def test_an_extension_to_loopback_is_refused_at_call_time(api, temporal, owner_catalog, monkeypatch):
    """Created by a catalog owner while loopback was allowed; at call time it no longer is: the
    blocking stage fails closed (the request is denied), the receiver sees nothing."""
    async with ExtensionReceiver() as receiver:
        final, stored, calls = await request_with_extension(
            api, temporal, owner_catalog, receiver.url,
            lambda: monkeypatch.setattr(get_settings(), "outbound_allowed_networks", ""))
        assert receiver.events == [] and receiver.bad_signatures == 0
    assert final.state == "denied"
    assert "cannot continue" in stored.status and "destination refused" in stored.status
    [callout] = calls
    assert callout.state == "failed" and callout.response_status is None
    assert callout.error == "destination refused: 127.0.0.1 is a loopback address"


# --- the transport: resolve, check, connect to what was checked ---------------------------------

def resolver(monkeypatch, answers: dict[str, list]):
    """Our resolver answers these names (a list per name: one answer per call, the last repeats);
    it records every question. Other names go to the system resolver."""
    from foyer import outbound

    real, asked = outbound.resolve, []

    async def answer(host, port):
        asked.append(host)
        if host in answers:
            queue = answers[host]
            return queue.pop(0) if len(queue) > 1 else queue[0]
        return await real(host, port)

    monkeypatch.setattr(outbound, "resolve", answer)
    return asked


async def test_dns_that_changes_after_creation_is_refused_at_call_time(api, temporal, owner_catalog,
                                                                      production_rule, monkeypatch):
    """The name resolved to a public address when the extension was made, to loopback when it is
    called: refused at call time, the request denied, nothing reaches the server."""
    async with ExtensionReceiver() as receiver:
        answers = {"partner.example": [[PUBLIC]]}
        asked = resolver(monkeypatch, answers)
        final, stored, calls = await request_with_extension(
            api, temporal, owner_catalog, f"http://partner.example:{receiver.port}/hook",
            lambda: answers.update({"partner.example": [["127.0.0.1"]]}))
        assert receiver.events == [] and receiver.bad_signatures == 0
    assert asked[0] == "partner.example" and len(asked) >= 2  # at creation, and again at call time
    assert final.state == "denied"
    [callout] = calls
    assert callout.error == "destination refused: partner.example resolves to 127.0.0.1, a loopback address"


async def test_the_transport_connects_to_the_address_it_checked(monkeypatch):
    """`only.our.resolver` is unknown to the system resolver: the call reaches the server only
    because the connection goes to the address our check saw, with the name kept for Host/SNI.
    One address of the answer outside the rule refuses the whole name."""
    from foyer import outbound

    async with connector_server() as connectors:
        asked = resolver(monkeypatch, {"only.our.resolver": [["127.0.0.1"]],
                                       "mixed.example": [[PUBLIC, "127.0.0.1", "10.0.0.1"]]})
        async with outbound.client(timeout=5) as client:
            response = await client.post(f"http://only.our.resolver:{connectors.port}/connector", json={})
        assert response.status_code == 200
        [received] = connectors.requests
        assert received.headers["host"] == f"only.our.resolver:{connectors.port}"
        assert asked == ["only.our.resolver"]

        monkeypatch.setattr(get_settings(), "outbound_allowed_networks", "")
        for host, reason in (("only.our.resolver", "resolves to 127.0.0.1, a loopback address"),
                             ("mixed.example", "resolves to 127.0.0.1, a loopback address")):
            async with outbound.client(timeout=5) as client:
                with pytest.raises(httpx.ConnectError) as failure:
                    await client.post(f"http://{host}:{connectors.port}/connector", json={})
            refused = outbound.refusal_in(failure.value)
            assert refused is not None and str(refused) == f"{host} {reason}"
        assert len(connectors.requests) == 1


async def test_tls_is_verified_against_the_name_not_the_address(api, admin, monkeypatch):
    """The client-certificate path over the guarded transport: the server's certificate names
    `localhost` and 127.0.0.1. Reached as `localhost` it verifies; reached as another name that
    resolves to the same 127.0.0.1, verification fails, proving the name (not the connected IP)
    is what the certificate is checked against."""
    async with connector_server(tls=True) as server:
        monkeypatch.setenv("SSL_CERT_FILE", server.ca_file)
        resolver(monkeypatch, {"partner.example": [["127.0.0.1"]]})
        outcomes = {}
        for host in ("localhost", "partner.example"):
            created = await api.post(CONNECTORS, headers=admin, json={
                "displayName": f"TLS {host}", "targetUrl": f"https://{host}:{server.port}/connector",
                "authenticationConfiguration": {"@odata.type": "#microsoft.graph.pkcs12Certificate",
                                                "pkcs12Value": server.client_pkcs12,
                                                "password": server.client_password}})
            assert created.status_code == 201, created.text
            outcomes[host] = await call(created.json()["id"])
        assert outcomes["localhost"].action == "continue", outcomes["localhost"].detail
        assert outcomes["partner.example"].action == "block"
        assert "CERTIFICATE_VERIFY_FAILED" in outcomes["partner.example"].detail
        assert len(server.requests) == 1
