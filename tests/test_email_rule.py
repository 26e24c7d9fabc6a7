"""One email rule (foyer.rules.emails) for every place an address comes in. Before it, the API's
bodies and campaign rows used a strict pattern while the sign-in and sign-up pages, the two
workflows' Update validators and a user flow's emailBox fields only looked for an "@" (the
sign-in workflow not even for blanks), with a limit of 320 characters instead of 254: an address
one of them took, another refused. These cases were the disagreements; each surface now gives
the same verdict."""

from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from foyer.api.campaign_rows import parse_json
from foyer.api.routers.invitations import InvitationCreate
from foyer.rules.emails import is_email_address, normalize_email
from foyer.sign_up_forms import check
from foyer.workflows.messages.sign_in import CodeRequest
from foyer.workflows.messages.sign_up import SignUpCodeRequest
from foyer.workflows.sign_in import SignInWorkflow
from foyer.workflows.sign_up import SignUpWorkflow

pytestmark = pytest.mark.database_independent

LONG = "a" * 243 + "@contoso.com"  # 255 characters: over SMTP's 254, under the old 320
REFUSED = [
    "someone@localhost",           # no dot in the domain: the pages and workflows took it
    "Bob Smith <bob@contoso.com>",  # a display name: the sign-in workflow took it
    LONG,
    "bob@@contoso.com",            # the pages took it
    "bob@contoso..com",
    "bob@-contoso.com",
    "bob;eve@contoso.com",         # a separator in a mail header
    "",
]
TAKEN = ["bob@contoso.com", "  Bob.Smith+partners@Contoso.Example  ", "o'neil@fabrikam.co.uk"]


def _api_body(address: str) -> bool:
    try:
        InvitationCreate.model_validate({"invitedUserEmailAddress": address,
                                         "inviteRedirectUrl": "https://app.contoso.test/"})
    except ValidationError:
        return False
    return True


def _campaign_row(address: str) -> bool:
    [row] = parse_json([{"invitedUserEmailAddress": address, "inviteRedirectUrl": "https://app.contoso.test/"}])
    return not any(p["code"] in ("badAddress", "missingAddress") or p["column"] == "inviteeEmail"
                   for p in row.problems)


def _validator(validate, state: str, request) -> bool:
    try:
        validate(SimpleNamespace(status=SimpleNamespace(state=state)), request)
    except ApplicationError as refused:
        assert refused.type == "invalidRequest" and refused.message == "enter an email address"
        return False
    return True


def _sign_in_workflow(address: str) -> bool:
    return _validator(SignInWorkflow._validate_request_code, "new", CodeRequest(email=address))


def _sign_up_workflow(address: str) -> bool:
    return _validator(SignUpWorkflow._validate_request_code, "started", SignUpCodeRequest(email=address))


def _email_box(address: str) -> bool:
    assignment = {"id": "extension_x_work", "displayName": "Work email", "userInputType": "emailBox",
                  "userAttribute": {"id": "extension_x_work"}, "dataType": "string"}
    _, errors = check([assignment], {"extension_x_work": address})
    assert not errors or errors == {"extension_x_work": "Work email must be an email address."}
    return not errors


SURFACES = {"the rule (the sign-in and sign-up pages)": is_email_address, "API bodies": _api_body,
            "campaign rows": _campaign_row, "SignInWorkflow.request_code": _sign_in_workflow,
            "SignUpWorkflow.request_code": _sign_up_workflow, "emailBox fields": _email_box}


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("address", REFUSED, ids=lambda a: a[:30] or "empty")
def test_every_surface_refuses_what_the_rule_refuses(surface, address):
    if surface == "emailBox fields" and not address:
        pytest.skip("an empty optional field is no address at all")
    assert SURFACES[surface](address) is False


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("address", TAKEN)
def test_every_surface_takes_what_the_rule_takes(surface, address):
    assert SURFACES[surface](address) is True


def test_normalized_and_refused_with_the_field_named():
    assert normalize_email("  Bob.Smith@Contoso.Example ") == "bob.smith@contoso.example"
    with pytest.raises(ValueError, match=r"'someone@localhost' is not a valid invitedUserEmailAddress"):
        normalize_email(" someone@localhost ", "invitedUserEmailAddress")
    with pytest.raises(ValueError):
        normalize_email(None)
    assert len("a" * 242 + "@contoso.com") == 254 and is_email_address("a" * 242 + "@contoso.com")
