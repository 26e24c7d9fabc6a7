"""Request shapes of entitlement management (`/v1.0/identityGovernance/entitlementManagement/`):
catalogs, access packages, assignment policies and connected organizations, with the checks a
body can pass or fail on its own. Checks that need the database (does this user exist?) are in
the routers; `references()` collects what they must look up.

Subject sets and questions carry `@odata.type`, which `GraphModel` drops, so they are read as
plain dicts, checked here, and stored with their `@odata.type` (Graph's own shape, which the
workflows read back).
"""

import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, StrictBool, ValidationError, field_validator, model_validator

from foyer.api.schemas import GraphModel, iso, refuse_null, utc
from foyer.durations import check_duration, parse_duration
from foyer.names import DisplayName, MultilineText, control_character_in_text
from foyer.models.base import utcnow

GRAPH = "#microsoft.graph."

# --- subject sets -------------------------------------------------------------------------------

# @odata.type → the id property it carries (None: the set needs no id).
SUBJECT_SET_KEYS: dict[str, str | None] = {
    "singleUser": "userId",
    "groupMembers": "groupId",
    "connectedOrganizationMembers": "connectedOrganizationId",
    "requestorManager": None,
    "internalSponsors": None,
    "externalSponsors": None,
}
# Which kind of directory object each id property names.
REFERENCE_KIND = {"userId": "user", "groupId": "group", "connectedOrganizationId": "connectedOrganization"}
_COMMON_SUBJECT_KEYS = {"description", "isBackup"}

TARGET_SETS = {"singleUser", "groupMembers", "connectedOrganizationMembers"}
APPROVER_SETS = {"singleUser", "groupMembers", "requestorManager", "internalSponsors", "externalSponsors"}
ON_BEHALF_SETS = {"singleUser", "groupMembers", "requestorManager", "internalSponsors", "externalSponsors"}


def _type_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("each subject set needs an @odata.type such as #microsoft.graph.singleUser")
    name = value.strip()
    if name.startswith("#"):
        name = name[1:]
    if name.startswith("microsoft.graph."):
        name = name[len("microsoft.graph."):]
    if name not in SUBJECT_SET_KEYS:
        raise ValueError(f"@odata.type {value!r} is not a subject set; use one of "
                         + ", ".join(GRAPH + k for k in SUBJECT_SET_KEYS))
    return name


def subject_sets(value: Any, allowed: set[str], *, non_empty: bool = False) -> list[dict]:
    """Check a list of Graph subject sets; answer them normalized (`@odata.type` with its `#`)."""
    if value is None:
        value = []
    if not isinstance(value, list):
        raise ValueError("must be a list of subject sets")
    if non_empty and not value:
        raise ValueError("must name at least one subject set")
    if len(value) > 100:
        raise ValueError("at most 100 subject sets")
    result, seen = [], set()
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValueError(f"item {index} is not an object")
        name = _type_name(item.get("@odata.type"))
        if name not in allowed:
            raise ValueError(f"item {index}: {GRAPH}{name} is not allowed here; use one of "
                             + ", ".join(GRAPH + k for k in sorted(allowed)))
        key = SUBJECT_SET_KEYS[name]
        known = _COMMON_SUBJECT_KEYS | ({key} if key else set()) | (
            {"managerLevel"} if name == "requestorManager" else set())
        extra = sorted(k for k in item if k != "@odata.type" and k not in known)
        if extra:
            raise ValueError(f"item {index} ({GRAPH}{name}): unknown properties {', '.join(extra)}")
        normalized: dict[str, Any] = {"@odata.type": GRAPH + name}
        if key:
            ref = item.get(key)
            if not isinstance(ref, str) or not ref.strip():
                raise ValueError(f"item {index} ({GRAPH}{name}) needs {key}")
            normalized[key] = ref.strip()
        if name == "requestorManager":
            level = item.get("managerLevel", 1)
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 2:
                raise ValueError(f"item {index}: managerLevel must be 1 or 2")
            normalized["managerLevel"] = level
        if item.get("description") is not None:
            if not isinstance(item["description"], str):
                raise ValueError(f"item {index}: description must be a string")
            if control_character_in_text(item["description"]):
                raise ValueError(f"item {index}: description contains the control character "
                                 f"{control_character_in_text(item['description'])}")
            normalized["description"] = item["description"]
        if item.get("isBackup") is not None:
            if not isinstance(item["isBackup"], bool):
                raise ValueError(f"item {index}: isBackup must be true or false")
            normalized["isBackup"] = item["isBackup"]
        identity = (name, normalized.get(key) if key else None)
        if identity in seen:
            raise ValueError(f"item {index} repeats {GRAPH}{name}"
                             + (f" {normalized[key]}" if key else ""))
        seen.add(identity)
        result.append(normalized)
    return result


def _references(sets: list[dict], path: str) -> list[tuple[str, str, str]]:
    """(kind, id, field path) for every directory object these subject sets name."""
    found = []
    for item in sets:
        for key, kind in REFERENCE_KIND.items():
            if key in item:
                found.append((kind, item[key], path))
    return found


# --- catalogs -----------------------------------------------------------------------------------

class CatalogCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    catalog_type: Literal["userManaged"] = "userManaged"
    state: Literal["published", "unpublished"] = "published"
    is_externally_visible: StrictBool = True
    foyer_owner_ids: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("display_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("may not be blank")
        return value.strip()


class CatalogUpdate(GraphModel):
    display_name: DisplayName | None = Field(default=None, min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    state: Literal["published", "unpublished"] | None = None
    is_externally_visible: StrictBool | None = None
    foyer_owner_ids: list[str] | None = Field(default=None, max_length=100)

    _present = refuse_null("display_name", "state", "is_externally_visible",
                               "foyer_owner_ids")


class Reference(GraphModel):
    id: str = Field(min_length=1, max_length=100)


class ResourceSpec(GraphModel):
    id: str | None = None
    origin_id: str | None = Field(default=None, min_length=1, max_length=2048)
    origin_system: Literal["AadGroup", "AadApplication", "SharePointOnline"] | None = None
    display_name: DisplayName | None = Field(default=None, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    resource_type: str | None = None
    url: str | None = None


class ResourceRequestCreate(GraphModel):
    request_type: Literal["adminAdd", "adminRemove"]
    resource: ResourceSpec
    catalog: Reference
    justification: MultilineText | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _resource(self):
        if self.request_type == "adminAdd":
            if not self.resource.origin_id or not self.resource.origin_system:
                raise ValueError("resource needs originId and originSystem "
                                 "(AadGroup, AadApplication or SharePointOnline)")
            if self.resource.origin_system == "SharePointOnline":
                parsed = urlparse(self.resource.origin_id)
                if parsed.scheme not in ("http", "https") or not parsed.netloc:
                    raise ValueError("resource.originId of a SharePointOnline resource must be the "
                                     "site's URL, such as https://contoso.sharepoint.com/sites/Sales")
        elif not self.resource.id and not (self.resource.origin_id and self.resource.origin_system):
            raise ValueError("adminRemove needs resource.id, or resource.originId with originSystem")
        return self


# --- access packages ----------------------------------------------------------------------------

class AccessPackageCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    is_hidden: StrictBool = False
    catalog: Reference


class AccessPackageUpdate(GraphModel):
    display_name: DisplayName | None = Field(default=None, min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    is_hidden: StrictBool | None = None

    _present = refuse_null("display_name", "is_hidden")


class RoleResource(GraphModel):
    id: str | None = None
    origin_id: str | None = None
    origin_system: str | None = None
    display_name: DisplayName | None = None
    description: MultilineText | None = None
    resource_type: str | None = None
    url: str | None = None


class ScopeRole(GraphModel):
    id: str | None = None
    origin_id: str = Field(min_length=1, max_length=256)
    origin_system: str | None = None
    display_name: DisplayName | None = None
    description: MultilineText | None = None
    resource: RoleResource


class ScopeSpec(GraphModel):
    id: str | None = None
    origin_id: str | None = None
    origin_system: str | None = None
    display_name: DisplayName | None = None
    description: MultilineText | None = None
    is_root_scope: StrictBool | None = None


class ResourceRoleScopeCreate(GraphModel):
    role: ScopeRole
    scope: ScopeSpec | None = None

    @model_validator(mode="after")
    def _resource(self):
        if not self.role.resource.id and not self.role.resource.origin_id:
            raise ValueError("role.resource needs id (the catalog resource) or originId")
        return self


# --- assignment policies ------------------------------------------------------------------------

TARGET_SCOPES = ("notSpecified", "specificDirectoryUsers", "specificConnectedOrganizationUsers",
                 "allMemberUsers", "allDirectoryUsers", "allConfiguredConnectedOrganizationUsers",
                 "allExternalUsers")
EXTENSION_STAGES = ("assignmentRequestCreated", "assignmentRequestApproved",
                    "assignmentRequestGranted", "assignmentRequestRemoved",
                    "assignmentFourteenDaysBeforeExpiration", "assignmentOneDayBeforeExpiration")


class Expiration(GraphModel):
    type: Literal["notSpecified", "noExpiration", "afterDateTime", "afterDuration"] = "notSpecified"
    end_date_time: datetime | None = None
    duration: str | None = None

    @field_validator("duration")
    @classmethod
    def _duration(cls, value):
        if value is not None:
            check_duration(value, at_most="P3650D")
        return value

    @field_validator("end_date_time")
    @classmethod
    def _aware(cls, value):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return None if value is None else utc(value, "endDateTime")

    @model_validator(mode="after")
    def _consistent(self):
        if self.type == "afterDateTime":
            if self.end_date_time is None:
                raise ValueError("type afterDateTime needs endDateTime")
            if self.duration is not None:
                raise ValueError("type afterDateTime takes endDateTime, not duration")
        elif self.type == "afterDuration":
            if self.duration is None:
                raise ValueError("type afterDuration needs duration (ISO 8601, such as P30D)")
            if self.end_date_time is not None:
                raise ValueError("type afterDuration takes duration, not endDateTime")
        elif self.end_date_time is not None or self.duration is not None:
            raise ValueError(f"type {self.type} takes neither endDateTime nor duration")
        return self

    def stored(self) -> dict:
        end = self.end_date_time.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") \
            if self.end_date_time else None
        return {"type": self.type, "endDateTime": end, "duration": self.duration}


class RequestorSettings(GraphModel):
    enable_targets_to_self_add_access: StrictBool = False
    enable_targets_to_self_update_access: StrictBool = False
    enable_targets_to_self_remove_access: StrictBool = False
    allow_custom_assignment_schedule: StrictBool = False
    enable_on_behalf_requestors_to_add_access: StrictBool = False
    enable_on_behalf_requestors_to_update_access: StrictBool = False
    enable_on_behalf_requestors_to_remove_access: StrictBool = False
    on_behalf_requestors: list[Any] = Field(default_factory=list)

    @field_validator("on_behalf_requestors", mode="before")
    @classmethod
    def _sets(cls, value):
        return subject_sets(value, ON_BEHALF_SETS)

    @model_validator(mode="after")
    def _on_behalf(self):
        enabled = (self.enable_on_behalf_requestors_to_add_access
                   or self.enable_on_behalf_requestors_to_update_access
                   or self.enable_on_behalf_requestors_to_remove_access)
        if enabled and not self.on_behalf_requestors:
            raise ValueError("onBehalfRequestors must name who may request on behalf of others "
                             "when enableOnBehalfRequestorsTo…Access is true")
        return self


class ApprovalStage(GraphModel):
    duration_before_automatic_denial: str
    is_approver_justification_required: StrictBool = False
    is_escalation_enabled: StrictBool = False
    duration_before_escalation: str | None = None
    primary_approvers: list[Any]
    fallback_primary_approvers: list[Any] = Field(default_factory=list)
    escalation_approvers: list[Any] = Field(default_factory=list)
    fallback_escalation_approvers: list[Any] = Field(default_factory=list)

    @field_validator("duration_before_automatic_denial")
    @classmethod
    def _denial(cls, value):
        check_duration(value, at_least="PT1H", at_most="P14D")
        return value

    @field_validator("duration_before_escalation")
    @classmethod
    def _escalation(cls, value):
        if value is not None:
            check_duration(value, at_most="P14D")
        return value

    @field_validator("primary_approvers", mode="before")
    @classmethod
    def _primary(cls, value):
        return subject_sets(value, APPROVER_SETS, non_empty=True)

    @field_validator("fallback_primary_approvers", "escalation_approvers",
                     "fallback_escalation_approvers", mode="before")
    @classmethod
    def _others(cls, value):
        return subject_sets(value, APPROVER_SETS)

    @model_validator(mode="after")
    def _escalate(self):
        if self.is_escalation_enabled:
            if self.duration_before_escalation is None:
                raise ValueError("durationBeforeEscalation is required when isEscalationEnabled is true")
            if parse_duration(self.duration_before_escalation) >= parse_duration(
                    self.duration_before_automatic_denial):
                raise ValueError("durationBeforeEscalation must be shorter than "
                                 "durationBeforeAutomaticDenial")
            if not self.escalation_approvers:
                raise ValueError("escalationApprovers must name at least one subject set when "
                                 "isEscalationEnabled is true")
        return self


class ApprovalSettings(GraphModel):
    is_approval_required_for_add: StrictBool = False
    is_approval_required_for_update: StrictBool = False
    is_requestor_justification_required: StrictBool = False
    stages: list[ApprovalStage] = Field(default_factory=list, max_length=3)

    @model_validator(mode="after")
    def _stages(self):
        if (self.is_approval_required_for_add or self.is_approval_required_for_update) and not self.stages:
            raise ValueError("stages must hold 1 to 3 approval stages when approval is required")
        return self


class _Choice(GraphModel):
    actual_value: DisplayName = Field(min_length=1, max_length=256)
    text: DisplayName | None = Field(default=None, max_length=1024)
    display_value: dict | None = None
    localizations: list[dict] = Field(default_factory=list)


def _text(value: Any, where: str) -> tuple[str, list[dict]]:
    """A question's text: a string (Graph v1.0) or {defaultText, localizedTexts} (beta)."""
    if isinstance(value, str):
        text, localizations = value, []
    elif isinstance(value, dict) and isinstance(value.get("defaultText"), str):
        text = value["defaultText"]
        localizations = [{"text": t.get("text"), "languageCode": t.get("languageCode")}
                         for t in value.get("localizedTexts") or [] if isinstance(t, dict)]
    else:
        raise ValueError(f"{where} must be a non-empty string")
    if not text.strip() or len(text) > 1024:
        raise ValueError(f"{where} must be a non-empty string of at most 1024 characters")
    for candidate in [text] + [t["text"] for t in localizations if isinstance(t["text"], str)]:
        if control_character_in_text(candidate):
            raise ValueError(f"{where} contains the control character {control_character_in_text(candidate)}")
    return text, localizations


QUESTION_TYPES = {"accessPackageTextInputQuestion", "accessPackageMultipleChoiceQuestion"}
_QUESTION_KEYS = {"id", "text", "isRequired", "sequence", "localizations", "isAnswerEditable"}


def question(item: Any, index: int) -> dict:
    if not isinstance(item, dict):
        raise ValueError(f"item {index} is not an object")
    kind = item.get("@odata.type")
    name = kind.lstrip("#").removeprefix("microsoft.graph.") if isinstance(kind, str) else None
    if name not in QUESTION_TYPES:
        raise ValueError(f"item {index}: @odata.type must be {GRAPH}accessPackageTextInputQuestion "
                         f"or {GRAPH}accessPackageMultipleChoiceQuestion")
    specific = ({"isSingleLineQuestion", "regexPattern"} if name == "accessPackageTextInputQuestion"
                else {"choices", "allowsMultipleSelection"})
    extra = sorted(k for k in item if not k.startswith("@odata.") and k not in _QUESTION_KEYS | specific)
    if extra:
        raise ValueError(f"item {index}: unknown properties {', '.join(extra)}")
    text, localizations = _text(item.get("text"), f"item {index}: text")
    for flag in ("isRequired", "isSingleLineQuestion", "allowsMultipleSelection", "isAnswerEditable"):
        if item.get(flag) is not None and not isinstance(item[flag], bool):
            raise ValueError(f"item {index}: {flag} must be true or false")
    qid = item.get("id") or str(uuid.uuid4())
    if not isinstance(qid, str) or len(qid) > 100:
        raise ValueError(f"item {index}: id must be a string")
    sequence = item.get("sequence", index)
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise ValueError(f"item {index}: sequence must be a whole number")
    stored: dict[str, Any] = {
        "@odata.type": GRAPH + name, "id": qid, "sequence": sequence, "text": text,
        "isRequired": bool(item.get("isRequired", False)),
        "isAnswerEditable": bool(item.get("isAnswerEditable", False)),
        "localizations": list(item.get("localizations") or localizations),
    }
    if name == "accessPackageTextInputQuestion":
        pattern = item.get("regexPattern")
        if pattern is not None:
            if not isinstance(pattern, str) or len(pattern) > 1000:
                raise ValueError(f"item {index}: regexPattern must be a string")
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"item {index}: regexPattern does not compile: {error}") from None
        stored["isSingleLineQuestion"] = bool(item.get("isSingleLineQuestion", True))
        stored["regexPattern"] = pattern
    else:
        choices = item.get("choices")
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"item {index}: choices must hold at least one choice")
        if len(choices) > 100:
            raise ValueError(f"item {index}: at most 100 choices")
        parsed, values = [], set()
        for number, choice in enumerate(choices):
            if not isinstance(choice, dict):
                raise ValueError(f"item {index}: choice {number} is not an object")
            try:
                model = _Choice.model_validate(choice)
            except ValidationError as error:
                problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                     for e in error.errors())
                raise ValueError(f"item {index}: choice {number} is not valid: {problems}") from None
            label = model.text
            if label is None and model.display_value is not None:
                label, _ = _text(model.display_value, f"item {index}: choice {number} displayValue")
            if label is None:
                label = model.actual_value
            if model.actual_value in values:
                raise ValueError(f"item {index}: choices repeat the actualValue {model.actual_value!r}")
            values.add(model.actual_value)
            parsed.append({"actualValue": model.actual_value, "text": label,
                           "localizations": model.localizations})
        stored["choices"] = parsed
        stored["allowsMultipleSelection"] = bool(item.get("allowsMultipleSelection", False))
    return stored


class AssignmentPolicyCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    access_package: Reference
    allowed_target_scope: Literal[TARGET_SCOPES] = "notSpecified"  # type: ignore[valid-type]
    specific_allowed_targets: list[Any] = Field(default_factory=list)
    expiration: Expiration = Field(default_factory=Expiration)
    requestor_settings: RequestorSettings = Field(default_factory=RequestorSettings)
    request_approval_settings: ApprovalSettings = Field(default_factory=ApprovalSettings)
    questions: list[Any] = Field(default_factory=list, max_length=50)
    custom_extension_stage_settings: list[Any] = Field(default_factory=list, max_length=20)
    # Graph has it; Foyer does not review access (yet), so only an empty value is accepted.
    review_settings: None = None
    # Read-only properties a script may send back from a GET; `id` must be the policy's own.
    id: str | None = None
    created_date_time: Any = None
    modified_date_time: Any = None
    # Graph's automaticRequestSettings etc. are not part of Foyer; refused as unknown.

    @field_validator("specific_allowed_targets", mode="before")
    @classmethod
    def _targets(cls, value):
        return subject_sets(value, TARGET_SETS)

    @field_validator("questions", mode="before")
    @classmethod
    def _questions(cls, value):
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError("must be a list of questions")
        parsed = [question(item, index) for index, item in enumerate(value)]
        ids = [q["id"] for q in parsed]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique")
        return parsed

    @field_validator("custom_extension_stage_settings", mode="before")
    @classmethod
    def _extensions(cls, value):
        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError("must be a list of {stage, customExtension: {id}}")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise ValueError(f"item {index} is not an object")
            if item.get("stage") not in EXTENSION_STAGES:
                raise ValueError(f"item {index}: stage {item.get('stage')!r} must be one of "
                                 + ", ".join(EXTENSION_STAGES))
            extension = item.get("customExtension")
            if not isinstance(extension, dict) or not isinstance(extension.get("id"), str) \
                    or not extension["id"].strip():
                raise ValueError(f"item {index}: customExtension must be {{\"id\": \"…\"}}")
        return value

    @model_validator(mode="after")
    def _scope(self):
        scope, targets = self.allowed_target_scope, self.specific_allowed_targets
        kinds = {t["@odata.type"].removeprefix(GRAPH) for t in targets}
        if scope == "specificDirectoryUsers":
            if not targets:
                raise ValueError("specificAllowedTargets must name users or groups when "
                                 "allowedTargetScope is specificDirectoryUsers")
            if kinds - {"singleUser", "groupMembers"}:
                raise ValueError("specificAllowedTargets may hold only singleUser and groupMembers "
                                 "when allowedTargetScope is specificDirectoryUsers")
        elif scope == "specificConnectedOrganizationUsers":
            if not targets:
                raise ValueError("specificAllowedTargets must name connected organizations when "
                                 "allowedTargetScope is specificConnectedOrganizationUsers")
            if kinds - {"connectedOrganizationMembers"}:
                raise ValueError("specificAllowedTargets may hold only connectedOrganizationMembers "
                                 "when allowedTargetScope is specificConnectedOrganizationUsers")
        elif targets:
            raise ValueError(f"specificAllowedTargets must be empty when allowedTargetScope is {scope}")
        return self

    def references(self) -> list[tuple[str, str, str]]:
        found = _references(self.specific_allowed_targets, "specificAllowedTargets")
        found += _references(self.requestor_settings.on_behalf_requestors,
                             "requestorSettings.onBehalfRequestors")
        for number, stage in enumerate(self.request_approval_settings.stages):
            for name in ("primaryApprovers", "fallbackPrimaryApprovers", "escalationApprovers",
                         "fallbackEscalationApprovers"):
                sets = getattr(stage, {"primaryApprovers": "primary_approvers",
                                       "fallbackPrimaryApprovers": "fallback_primary_approvers",
                                       "escalationApprovers": "escalation_approvers",
                                       "fallbackEscalationApprovers": "fallback_escalation_approvers"}[name])
                found += _references(sets, f"requestApprovalSettings.stages.{number}.{name}")
        return found

    def stored(self) -> dict:
        """The JSON columns, in Graph's camelCase shape."""
        approval = self.request_approval_settings
        return {
            "display_name": self.display_name,
            "description": self.description,
            "allowed_target_scope": self.allowed_target_scope,
            "specific_allowed_targets": self.specific_allowed_targets,
            "expiration": self.expiration.stored(),
            "requestor_settings": self.requestor_settings.model_dump(by_alias=True),
            "request_approval_settings": {
                "isApprovalRequiredForAdd": approval.is_approval_required_for_add,
                "isApprovalRequiredForUpdate": approval.is_approval_required_for_update,
                "isRequestorJustificationRequired": approval.is_requestor_justification_required,
                "stages": [stage.model_dump(by_alias=True) for stage in approval.stages],
            },
            "questions": self.questions,
            "custom_extension_stage_settings": self.custom_extension_stage_settings,
        }


# --- connected organizations --------------------------------------------------------------------

DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
IDENTITY_SOURCE_KEYS = {
    "domainIdentitySource": {"domainName", "displayName"},
    "externalDomainFederation": {"domainName", "displayName", "issuerUri"},
}


def identity_sources(value: Any) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise ValueError("must hold at least one identity source, such as "
                         '{"@odata.type": "#microsoft.graph.domainIdentitySource", '
                         '"domainName": "fabrikam.com", "displayName": "Fabrikam"}')
    if len(value) > 50:
        raise ValueError("at most 50 identity sources")
    result, seen = [], set()
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise ValueError(f"item {index} is not an object")
        kind = item.get("@odata.type")
        name = kind.lstrip("#").removeprefix("microsoft.graph.") if isinstance(kind, str) else None
        if name not in IDENTITY_SOURCE_KEYS:
            raise ValueError(f"item {index}: @odata.type must be {GRAPH}domainIdentitySource or "
                             f"{GRAPH}externalDomainFederation")
        extra = sorted(k for k in item if not k.startswith("@odata.") and k not in IDENTITY_SOURCE_KEYS[name])
        if extra:
            raise ValueError(f"item {index}: unknown properties {', '.join(extra)}")
        domain = item.get("domainName")
        if not isinstance(domain, str) or not DOMAIN_PATTERN.match(domain.strip().lower()):
            raise ValueError(f"item {index}: domainName {domain!r} is not a domain name such as fabrikam.com")
        domain = domain.strip().lower()
        if domain in seen:
            raise ValueError(f"item {index}: the domain {domain} is listed twice")
        seen.add(domain)
        display = item.get("displayName")
        if display is not None and (not isinstance(display, str) or len(display) > 256):
            raise ValueError(f"item {index}: displayName must be a string")
        stored = {"@odata.type": GRAPH + name, "domainName": domain, "displayName": display or domain}
        if name == "externalDomainFederation":
            issuer = item.get("issuerUri")
            parsed = urlparse(issuer) if isinstance(issuer, str) else None
            if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ValueError(f"item {index}: issuerUri must be an http(s) URL")
            stored["issuerUri"] = issuer
        result.append(stored)
    return result


class ConnectedOrganizationCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    identity_sources: list[Any]
    state: Literal["configured", "proposed"] = "configured"

    @field_validator("identity_sources", mode="before")
    @classmethod
    def _sources(cls, value):
        return identity_sources(value)


class ConnectedOrganizationUpdate(GraphModel):
    display_name: DisplayName | None = Field(default=None, min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    identity_sources: list[Any] | None = None
    state: Literal["configured", "proposed"] | None = None

    _present = refuse_null("display_name", "state")

    @field_validator("identity_sources", mode="before")
    @classmethod
    def _sources(cls, value):
        return identity_sources(value)


# --- assignment requests and approval decisions ------------------------------------------------

USER_TYPES = ("userAdd", "userUpdate", "userRemove")
ADMIN_TYPES = ("adminAdd", "adminUpdate", "adminRemove")
EXPIRATION_TYPES = ("notSpecified", "noExpiration", "afterDateTime", "afterDuration")
LONGEST_SCHEDULE = timedelta(days=3650)
START_TOLERANCE = timedelta(minutes=5)

IDENTIFIER = Field(min_length=1, max_length=100)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} needs a time zone, such as 2030-01-31T00:00:00Z")
    return utc(value, name) if value else None


class ScheduleExpiration(GraphModel):
    type: Literal[EXPIRATION_TYPES] = "notSpecified"  # type: ignore[valid-type]
    end_date_time: datetime | None = None
    duration: str | None = None

    @model_validator(mode="after")
    def _consistent(self):
        self.end_date_time = _aware(self.end_date_time, "endDateTime")
        now = utcnow()
        if self.type == "afterDuration":
            if not self.duration:
                raise ValueError("expiration of type afterDuration needs a duration such as P30D")
            check_duration(self.duration, "duration", at_most="P3650D")
        if self.type == "afterDateTime":
            if self.end_date_time is None:
                raise ValueError("expiration of type afterDateTime needs an endDateTime")
            if self.end_date_time <= now:
                raise ValueError("endDateTime is in the past")
            if self.end_date_time > now + LONGEST_SCHEDULE:
                raise ValueError("endDateTime is more than ten years away")
        return self


class Schedule(GraphModel):
    start_date_time: datetime | None = None
    expiration: ScheduleExpiration | None = None
    recurrence: None = None  # Graph SDKs send it empty; Foyer has no recurring assignments

    @model_validator(mode="after")
    def _start(self):
        self.start_date_time = _aware(self.start_date_time, "startDateTime")
        if self.start_date_time and self.start_date_time > utcnow() + START_TOLERANCE:
            raise ValueError("startDateTime in the future is not supported: an assignment starts "
                             "when it is delivered")
        return self

    def stored(self) -> dict:
        """Graph's entitlementManagementSchedule, as the workflow reads it. An expiration of type
        notSpecified leaves the policy's."""
        stored: dict[str, Any] = {}
        if self.start_date_time:
            stored["startDateTime"] = iso(self.start_date_time)
        expiration = self.expiration
        if expiration and expiration.type != "notSpecified":
            stored["expiration"] = {"type": expiration.type}
            if expiration.type == "afterDateTime":
                stored["expiration"]["endDateTime"] = iso(expiration.end_date_time)
            if expiration.type == "afterDuration":
                stored["expiration"]["duration"] = expiration.duration
        return stored


class AssignmentReference(GraphModel):
    access_package_id: str = IDENTIFIER
    assignment_policy_id: str | None = Field(default=None, min_length=1, max_length=100)
    target_id: str | None = Field(default=None, min_length=1, max_length=100)


def _answer(item: Any, index: int) -> dict:
    """One answer, as the workflow reads it: {"question": {"id"}, "answeredValue"}. Graph's
    spellings are accepted: answeredQuestion for question, value for answeredValue."""
    where = f"answers[{index}]"
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object with question and answeredValue")
    question = item.get("question", item.get("answeredQuestion"))
    question_id = question.get("id") if isinstance(question, dict) else item.get("questionId")
    if not isinstance(question_id, str) or not question_id.strip() or len(question_id) > 200:
        raise ValueError(f"{where}.question.id must name one of the policy's questions")
    value = item.get("answeredValue", item.get("value"))
    values = value if isinstance(value, list) else [value]
    if value is not None and not all(isinstance(v, str) and len(v) <= 4000 for v in values):
        raise ValueError(f"{where}.answeredValue must be text (or a list of texts for a "
                         "multiple-choice question that allows several)")
    if isinstance(value, list) and len(value) > 100:
        raise ValueError(f"{where}.answeredValue has too many choices")
    answer = {"question": {"id": question_id}, "answeredValue": value}
    if isinstance(item.get("@odata.type"), str):
        answer["@odata.type"] = item["@odata.type"]
    return answer


class AssignmentRequestCreate(GraphModel):
    request_type: Literal[USER_TYPES + ADMIN_TYPES]  # type: ignore[valid-type]
    assignment: AssignmentReference
    justification: MultilineText | None = Field(default=None, max_length=4000)
    answers: list[Any] = Field(default_factory=list, max_length=100)
    schedule: Schedule | None = None

    @field_validator("answers")
    @classmethod
    def _answers(cls, value: list[Any]) -> list[dict]:
        answers = [_answer(item, index) for index, item in enumerate(value)]
        ids = [a["question"]["id"] for a in answers]
        if len(set(ids)) != len(ids):
            raise ValueError("answers: each question is answered once")
        return answers


class StageDecision(GraphModel):
    review_result: Literal["Approve", "Deny"]
    justification: MultilineText | None = Field(default=None, max_length=4000)
