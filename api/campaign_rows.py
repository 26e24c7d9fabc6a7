"""Campaign input: Entra's bulk-invite CSV (its `version:v1.0` line and bracketed column keys),
Foyer's own optional columns, or the same rows as JSON; and the verdict on each row (the dry run).

A verdict names the row (its line in the file, or its index in the JSON body, 1-based) and the
column: bad address, blocked domain, duplicate within the file, already a member, already
invited, missing or bad redirect URL, unknown group, application, access package or policy.
"""

import csv
import io
import re
from dataclasses import dataclass, field

from sqlmodel import col, select

from foyer.rules.emails import normalize_email
from foyer.names import control_character_in_name, control_character_in_text
from foyer.policy import domain_allowed, email_domain, may_preassign
from foyer.models.directory import Application, Group, Organization, User
from foyer.models.entitlement import AccessPackage, AssignmentPolicy
from foyer.models.enums import InvitationState, UserType
from foyer.models.invitation import Invitation

MAX_ROWS = 100_000
# Entra's template has 4 columns and Foyer adds 4: a header or a row wider than this is not a
# campaign file, and each row's cost grows with the header's width.
MAX_COLUMNS = 64
MAX_IDS_PER_CELL = 100
MAX_DISPLAY_NAME = 256
MAX_MESSAGE = 10_000  # as POST /invitations' customizedMessageBody
# Column keys: Entra's template, then Foyer's. A header cell "Label [key] Required" names `key`.
KEYS = {
    "inviteeemail": "email", "inviteredirecturl": "redirect", "sendemail": "send",
    "customizedmessagebody": "message", "displayname": "displayName", "groupids": "groups",
    "applicationids": "applications", "accesspackageids": "packages",
}
LABELS = {"email": "inviteeEmail", "redirect": "inviteRedirectURL", "send": "sendEmail",
          "message": "customizedMessageBody", "displayName": "displayName", "groups": "groupIds",
          "applications": "applicationIds", "packages": "accessPackageIds"}


class CampaignInputError(ValueError):
    """The file as a whole cannot be read (no header, no email column, too many rows…)."""


@dataclass
class ParsedRow:
    row_number: int
    email: str
    redirect: str
    send: bool = True
    message: str | None = None
    display_name: str | None = None
    groups: list[str] = field(default_factory=list)
    applications: list[str] = field(default_factory=list)
    # "packageId" or "packageId/policyId"; judge() resolves each to "packageId/policyId".
    packages: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)  # [{"column", "code", "message"}]

    def refuse(self, column: str, code: str, message: str) -> None:
        self.problems.append({"column": LABELS.get(column, column), "code": code, "message": message})


def _key(header: str) -> str | None:
    bracketed = re.search(r"\[([^\]]+)\]", header)
    name = (bracketed.group(1) if bracketed else header).strip().lower().replace(" ", "")
    return KEYS.get(name)


def _bool(value: str) -> bool | None:
    value = (value or "").strip().lower()
    if value in ("", "true", "yes", "1"):
        return True if value else None
    if value in ("false", "no", "0"):
        return False
    raise ValueError(value)


def _ids(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,]", value or "") if part.strip()]


def _refuse_controls(text: str) -> None:
    """No control character but tab and line breaks anywhere in the input: a NUL cannot even be
    stored, and the verdicts quote what the rows hold."""
    found = control_character_in_text(text)
    if found:
        at = text.find(chr(int(found[2:], 16)))
        raise CampaignInputError(f"line {text.count(chr(10), 0, at) + 1} contains the control "
                                 f"character {found}")


def parse_csv(text: str) -> list[ParsedRow]:
    _refuse_controls(text)
    lines = text.lstrip("\ufeff").splitlines()
    offset = 0
    if lines and lines[0].strip().lower().rstrip(",").startswith("version:"):
        offset = 1  # Entra's template starts with "version:v1.0"
    reader = csv.reader(io.StringIO("\n".join(lines[offset:])))
    try:
        header = next(reader)
    except StopIteration:
        raise CampaignInputError("the file has no header row") from None
    except csv.Error as error:
        raise CampaignInputError(f"the header row cannot be read: {error}") from None
    if len(header) > MAX_COLUMNS:
        raise CampaignInputError(f"the header row has {len(header)} columns; at most {MAX_COLUMNS}")
    columns = [_key(h) for h in header]
    if "email" not in columns:
        raise CampaignInputError("no column for the address to invite: expected a header like "
                                 "'Email address to invite [inviteeEmail] Required'")
    rows = []
    index = offset + 1
    while True:
        index += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # a field over the csv module's size limit, a bad quote…
            raise CampaignInputError(f"line {reader.line_num + offset} cannot be read: {error}") from None
        if len(cells) > MAX_COLUMNS:
            raise CampaignInputError(f"line {reader.line_num + offset} has {len(cells)} cells; "
                                     f"at most {MAX_COLUMNS}")
        if not any(c.strip() for c in cells):
            continue
        if cells[0].strip().lower().startswith("example:"):
            continue  # the template's example row
        values = {key: (cells[i] if i < len(cells) else "") for i, key in enumerate(columns) if key}
        rows.append(_row(index, values))
        if len(rows) > MAX_ROWS:
            raise CampaignInputError(f"at most {MAX_ROWS} rows per campaign")
    return rows


_JSON_TEXT = {"invitedUserEmailAddress": "email", "inviteRedirectUrl": "redirect",
              "customizedMessageBody": "message", "invitedUserDisplayName": "displayName"}
_JSON_IDS = {"foyerPreAssignedGroupIds": "groups", "foyerPreAssignedApplicationIds": "applications",
             "foyerAccessPackageIds": "packages"}


def parse_json(items: list) -> list[ParsedRow]:
    """The rows of a JSON campaign. A property of the wrong type is the whole body's error (as
    a schema would refuse it), naming the row; what the row means is judged per row."""
    if len(items) > MAX_ROWS:
        raise CampaignInputError(f"at most {MAX_ROWS} rows per campaign")
    rows = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise CampaignInputError(f"row {index} is not an object")
        values = {}
        for name, key in _JSON_TEXT.items():
            value = item.get(name)
            if value is not None and not isinstance(value, str):
                raise CampaignInputError(f"row {index}: {name} must be a string")
            values[key] = value or ""
        for name, key in _JSON_IDS.items():
            value = item.get(name)
            if value is not None and (not isinstance(value, list) or
                                      not all(isinstance(v, str) for v in value)):
                raise CampaignInputError(f"row {index}: {name} must be a list of ids")
            values[key] = ";".join(value or [])
        send = item.get("sendInvitationMessage")
        if send is not None and not isinstance(send, (bool, str)):
            raise CampaignInputError(f"row {index}: sendInvitationMessage must be true or false")
        values["send"] = "" if send is None else str(send)
        for key, value in values.items():
            if control_character_in_text(value):
                raise CampaignInputError(f"row {index}: {LABELS.get(key, key)} contains the control "
                                         f"character {control_character_in_text(value)}")
        rows.append(_row(index, values))
    return rows


def _row(number: int, values: dict) -> ParsedRow:
    row = ParsedRow(row_number=number, email=(values.get("email") or "").strip(),
                    redirect=(values.get("redirect") or "").strip(),
                    message=(values.get("message") or "").strip() or None,
                    display_name=(values.get("displayName") or "").strip() or None,
                    groups=_ids(values.get("groups", "")), applications=_ids(values.get("applications", "")),
                    packages=_ids(values.get("packages", "")))
    try:
        row.email = normalize_email(row.email, "address")
    except ValueError:
        row.refuse("email", "badAddress", f"{row.email[:100]!r} is not a valid email address"
                   if row.email else "the address to invite is missing")
    if not row.redirect:
        row.refuse("redirect", "missingRedirectUrl", "the redirection URL is missing")
    elif not re.match(r"^https?://[^\s/]+\S*$", row.redirect) or len(row.redirect) > 2048:
        row.refuse("redirect", "badRedirectUrl", f"{row.redirect[:100]!r} is not an http(s) URL")
    if row.display_name and control_character_in_name(row.display_name):
        row.refuse("displayName", "badDisplayName", "the display name contains the control character "
                   f"{control_character_in_name(row.display_name)}; it must be one line")
    elif row.display_name and len(row.display_name) > MAX_DISPLAY_NAME:
        row.refuse("displayName", "badDisplayName", f"the display name is longer than {MAX_DISPLAY_NAME} characters")
    if row.message and len(row.message) > MAX_MESSAGE:
        row.refuse("message", "badMessage", f"the message is longer than {MAX_MESSAGE} characters")
    for column in ("groups", "applications", "packages"):
        if len(getattr(row, column)) > MAX_IDS_PER_CELL:
            row.refuse(column, "tooManyIds", f"at most {MAX_IDS_PER_CELL} ids")
            setattr(row, column, [])
    try:
        send = _bool(values.get("send", ""))
        row.send = True if send is None else send
    except ValueError:
        row.refuse("send", "badValue", "sendEmail must be true or false")
    return row


async def judge(session, org: Organization, rows: list[ParsedRow], role: str) -> None:
    """Add the verdicts that need the directory and the policy (mutates rows' problems). `role`
    is the campaign creator's: rows pre-assign groups and applications only if it may."""
    preassign = may_preassign(role)
    seen: dict[str, int] = {}
    emails = [r.email for r in rows if not r.problems or r.problems[0]["code"] != "badAddress"]
    members, invited = set(), set()
    for start in range(0, len(emails), 500):
        chunk = emails[start:start + 500]
        members |= set((await session.exec(select(User.mail).where(
            User.organization_id == org.id, col(User.mail).in_(chunk),
            User.user_type == UserType.member, User.creation_type != "Invitation"))).all())
        invited |= set((await session.exec(select(Invitation.email).where(
            Invitation.organization_id == org.id, col(Invitation.email).in_(chunk),
            col(Invitation.state).in_([InvitationState.pending, InvitationState.redeemed])))).all())
    groups = set((await session.exec(select(Group.id).where(Group.organization_id == org.id))).all()) \
        if preassign and any(r.groups for r in rows) else set()
    apps = set((await session.exec(select(Application.id).where(Application.organization_id == org.id))).all()) \
        if preassign and any(r.applications for r in rows) else set()
    policies = await _policies_by_package(session, org, rows)
    own_domains = {d["name"].lower() for d in org.verified_domains}
    for row in rows:
        if any(p["code"] == "badAddress" for p in row.problems):
            continue
        if row.email in seen:
            row.refuse("email", "duplicateInFile", f"{row.email} is already on row {seen[row.email]}")
        else:
            seen[row.email] = row.row_number
        if not domain_allowed(org.domain_list_mode, org.domain_list, row.email):
            row.refuse("email", "domainNotAllowed",
                       f"invitations to {email_domain(row.email)} are not allowed by the "
                       "external collaboration settings")
        if email_domain(row.email) in own_domains or row.email in members:
            row.refuse("email", "alreadyMember", f"{row.email} is a member of the organization")
        elif row.email in invited:
            row.refuse("email", "alreadyInvited", f"{row.email} already has an invitation")
        if not preassign:
            # Which ids exist is not told to someone who may not pre-assign them anyway.
            for column, ids in (("groups", row.groups), ("applications", row.applications)):
                if ids:
                    row.refuse(column, "Authorization_RequestDenied",
                               f"{LABELS[column]} needs the Global Administrator or User Administrator "
                               f"role; the campaign's creator is {role}")
        for group_id in row.groups if preassign else ():
            if group_id not in groups:
                row.refuse("groups", "unknownGroup", f"no group with id {group_id}")
        for app_id in row.applications if preassign else ():
            if app_id not in apps:
                row.refuse("applications", "unknownApplication", f"no application with id {app_id}")
        row.packages = [_resolve_package(row, entry, policies) for entry in row.packages]


async def _policies_by_package(session, org: Organization, rows: list[ParsedRow]) -> dict[str, list[str]]:
    if not any(r.packages for r in rows):
        return {}
    found = (await session.exec(select(AccessPackage.id, AssignmentPolicy.id).join(
        AssignmentPolicy, col(AssignmentPolicy.access_package_id) == col(AccessPackage.id), isouter=True).where(
        AccessPackage.organization_id == org.id))).all()
    policies: dict[str, list[str]] = {}
    for package_id, policy_id in found:
        policies.setdefault(package_id, []).extend([policy_id] if policy_id else [])
    return policies


def _resolve_package(row: ParsedRow, entry: str, policies: dict[str, list[str]]) -> str:
    """An access package the guest is assigned directly (adminAdd) once invited: by its id when
    it has one policy, else as packageId/policyId."""
    package_id, _, policy_id = entry.partition("/")
    if package_id not in policies:
        row.refuse("packages", "unknownAccessPackage", f"no access package with id {package_id}")
    elif policy_id and policy_id not in policies[package_id]:
        row.refuse("packages", "unknownAssignmentPolicy",
                   f"access package {package_id} has no assignment policy {policy_id}")
    elif not policy_id and len(policies[package_id]) != 1:
        row.refuse("packages", "assignmentPolicyRequired",
                   f"access package {package_id} has {len(policies[package_id])} assignment policies: "
                   f"write it as {package_id}/<policy id>")
    else:
        return f"{package_id}/{policy_id or policies[package_id][0]}"
    return entry


def verdict(row: ParsedRow) -> dict:
    return {"row": row.row_number, "invitedUserEmailAddress": row.email,
            "verdict": "ok" if not row.problems else "invalid", "problems": row.problems}
