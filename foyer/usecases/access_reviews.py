"""Access reviews (Graph's identityGovernance/accessReviews): definitions, their instances and
the instances' decisions, for the API (foyer.api.routers.access_reviews) and the reviewer pages
(foyer.api.pages.reviews) alike. The processes (the Schedule, one AccessReviewWorkflow per
instance) are started and steered by foyer.workflows.client.access_reviews after these commit.

- A definition's body is checked whole (`normalized_definition`; a 400 names the field) and stored
  with its settings filled in (every setting present, Entra's defaults where not given), so the
  workflows read one shape.
- Reviewers (`reviewers`, `fallbackReviewers`), accessReviewReviewerScope {query, queryType
  "MicrosoftGraph", queryRoot}: `/users/{id}` (that user; must exist), `./owners` (the group's or
  the application's owners; for an access package, its catalog's owners), `./sponsors` (the
  internal sponsors of the person's connected organization; access-package scopes),
  `/identityGovernance/entitlementManagement/catalogs/{id}/owners` (a catalog's owners), `[]` a
  self-review. `./manager` is refused: Foyer's directory has no managers.
- Who: administrators manage definitions and instances (routers check the role); a decision is
  written by one of the instance's reviewers (`reviewer_ids`, resolved when it started) or, in a
  self-review, by the person it is about — only while the instance is InProgress.
"""

import re
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.audit import audit
from foyer.durations import check_duration
from foyer.errors import Refused
from foyer.models.access_reviews import AccessReviewDecision, AccessReviewDefinition, AccessReviewInstance
from foyer.models.base import utcnow
from foyer.models.directory import Application, Group, User
from foyer.models.entitlement import AccessPackage, Catalog
from foyer.rules.access_review_scope import CATALOG_OWNERS, REVIEWER_USER, ReviewScope, ScopeRefused, read_scope
from foyer.usecases.updates import commit

NO_ONE = "00000000-0000-0000-0000-000000000000"
REMOVE_ACCESS = "#microsoft.graph.removeAccessApplyAction"
DISABLE_AND_DELETE = "#microsoft.graph.disableAndDeleteUserApplyAction"
DECISIONS = ("Approve", "Deny", "DontKnow", "NotReviewed")
DEFAULT_DECISIONS = ("None", "Approve", "Deny", "Recommendation")
RECURRENCE_TYPES = ("weekly", "absoluteMonthly")
MONTHLY_INTERVALS = (1, 2, 3, 4, 6, 12)
CATEGORY = "AccessReviews"
IN_PROGRESS = "InProgress"

BOOLEAN_SETTINGS = ("mailNotificationsEnabled", "reminderNotificationsEnabled", "justificationRequiredOnApproval",
                    "defaultDecisionEnabled", "autoApplyDecisionsEnabled", "recommendationsEnabled",
                    "decisionHistoriesForReviewersEnabled")
SETTINGS = (*BOOLEAN_SETTINGS, "instanceDurationInDays", "recurrence", "defaultDecision",
            "recommendationLookBackDuration", "applyActions", "recommendationInsightSettings")
DEFAULT_DURATION_DAYS = 14
READ_ONLY = ("id", "createdBy", "createdDateTime", "lastModifiedDateTime", "status", "instances")
PROPERTIES = ("displayName", "descriptionForAdmins", "descriptionForReviewers", "scope", "instanceEnumerationScope",
              "reviewers", "fallbackReviewers", "settings", "additionalNotificationRecipients", "stageSettings",
              *READ_ONLY)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bad(message: str) -> Refused:
    return Refused("invalidRequest", message)


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


# --- checking a definition ------------------------------------------------------------------------------

def _text(body: dict, name: str, *, required: bool, limit: int = 256) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise _bad(f"{name} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{name} must be a non-empty string")
    if len(value) > limit:
        raise _bad(f"{name} is longer than {limit} characters")
    return value.strip()


def _reviewers(value: Any, field: str, scope: ReviewScope) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 25:
        raise _bad(f"{field} must be a list of at most 25 accessReviewReviewerScope objects ([] for a self-review)")
    found = []
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise _bad(f"{where} must be an object {{query, queryType, queryRoot}}")
        unknown = sorted(k for k in item if k not in ("query", "queryType", "queryRoot") and "@odata." not in k)
        if unknown:
            raise _bad(f"{where} has no property {', '.join(unknown)}")
        query, kind, root = item.get("query"), item.get("queryType", "MicrosoftGraph"), item.get("queryRoot")
        if kind != "MicrosoftGraph":
            raise _bad(f"{where}.queryType must be MicrosoftGraph")
        if not isinstance(query, str) or not query.strip():
            raise _bad(f"{where}.query is required")
        query = query.strip()
        relative = query.startswith("./")
        if root not in (None, "", "decisions") or (root and not relative):
            raise _bad(f"{where}.queryRoot: its only value is 'decisions', and only for a relative query "
                       "(./owners, ./sponsors)")
        if query == "./manager":
            raise _bad(f"{where}.query: ./manager is not supported: Foyer's directory records no managers; "
                       "name the reviewers (/users/{id}), the owners (./owners) or make it a self-review ([])")
        if query == "./owners":
            if scope.kind not in ("group", "eachGroup", "application", "accessPackage"):
                raise _bad(f"{where}.query: ./owners needs a scope with owners (a group, an application or an "
                           "access package, whose catalog's owners review)")
        elif query == "./sponsors":
            if scope.kind != "accessPackage":
                raise _bad(f"{where}.query: ./sponsors (a connected organization's sponsors) is only for "
                           "access-package scopes")
        elif not (REVIEWER_USER.match(query) or CATALOG_OWNERS.match(query)):
            raise _bad(f"{where}.query must be /users/{{id}}, ./owners, ./sponsors or "
                       "/identityGovernance/entitlementManagement/catalogs/{id}/owners")
        entry = {"query": query, "queryType": "MicrosoftGraph"}
        if relative:
            entry["queryRoot"] = root or None
        found.append(entry)
    return found


def _boolean(settings: dict, name: str) -> bool:
    value = settings.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _bad(f"settings.{name} must be true or false")
    return value


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(f"{field} must be a whole number from {low} to {high}")
    return value


def _day(value: Any, field: str) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise _bad(f"{field} must be a date such as 2026-01-31 (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(f"{field} must be a date such as 2026-01-31 (YYYY-MM-DD)") from None


def _recurrence(value: Any) -> dict | None:
    """A patternedRecurrence as Entra takes it for reviews: weekly or absoluteMonthly, from
    range.startDate. It becomes a Temporal Schedule's calendar spec: a monthly interval must
    divide 12 (a calendar's month range restarts each year, so every 5 months would not stay
    5 months apart across a year's end) and the day must exist in every month (1 to 28)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad("settings.recurrence must be an object {pattern, range}")
    unknown = sorted(k for k in value if k not in ("pattern", "range") and "@odata." not in k)
    if unknown:
        raise _bad(f"settings.recurrence has no property {', '.join(unknown)}")
    pattern, span = value.get("pattern"), value.get("range")
    if not isinstance(pattern, dict):
        raise _bad("settings.recurrence.pattern is required: {type, interval, dayOfMonth}")
    if not isinstance(span, dict):
        raise _bad("settings.recurrence.range is required: {type, startDate, endDate, numberOfOccurrences}")
    kind = pattern.get("type")
    if kind not in RECURRENCE_TYPES:
        raise _bad(f"settings.recurrence.pattern.type {kind!r} is not supported for access reviews: "
                   "Entra supports weekly and absoluteMonthly")
    allowed = {"type", "interval", "dayOfMonth", "daysOfWeek", "month", "index", "firstDayOfWeek"}
    unknown = sorted(k for k in pattern if k not in allowed and "@odata." not in k)
    if unknown:
        raise _bad(f"settings.recurrence.pattern has no property {', '.join(unknown)}")
    if pattern.get("daysOfWeek") not in (None, []) or pattern.get("month") not in (None, 0) or \
            pattern.get("index") not in (None, "first"):
        raise _bad("settings.recurrence.pattern: only type, interval and dayOfMonth are used for access "
                   "reviews (the start day comes from range.startDate); leave daysOfWeek, month and index out")
    interval = pattern.get("interval", 1)
    if kind == "weekly":
        interval = _whole(interval, "settings.recurrence.pattern.interval", 1, 52)
    elif interval not in MONTHLY_INTERVALS or isinstance(interval, bool):
        raise _bad("settings.recurrence.pattern.interval must be 1, 2, 3, 4, 6 or 12 for absoluteMonthly: "
                   "the recurrence is a calendar schedule whose months repeat each year, so the interval "
                   "must divide 12")
    range_kind = span.get("type")
    if range_kind not in ("endDate", "noEnd", "numbered"):
        raise _bad("settings.recurrence.range.type must be endDate, noEnd or numbered")
    unknown = sorted(k for k in span if k not in ("type", "startDate", "endDate", "numberOfOccurrences",
                                                  "recurrenceTimeZone") and "@odata." not in k)
    if unknown:
        raise _bad(f"settings.recurrence.range has no property {', '.join(unknown)}")
    start = _day(span.get("startDate"), "settings.recurrence.range.startDate")
    if span.get("recurrenceTimeZone") not in (None, "", "UTC"):
        raise _bad("settings.recurrence.range.recurrenceTimeZone: Foyer schedules reviews in UTC; leave it out")
    day = pattern.get("dayOfMonth") or None
    if kind == "absoluteMonthly":
        day = _whole(day if day is not None else start.day, "settings.recurrence.pattern.dayOfMonth "
                     "(or the day of range.startDate)", 1, 28)
    elif day is not None:
        raise _bad("settings.recurrence.pattern.dayOfMonth is only for absoluteMonthly")
    end, count = None, None
    if range_kind == "endDate":
        end = _day(span.get("endDate"), "settings.recurrence.range.endDate")
        if end < start:
            raise _bad("settings.recurrence.range.endDate is before its startDate")
    elif span.get("endDate") not in (None, "", "0001-01-01"):
        raise _bad("settings.recurrence.range.endDate is only for a range of type endDate")
    if range_kind == "numbered":
        count = _whole(span.get("numberOfOccurrences"), "settings.recurrence.range.numberOfOccurrences", 1, 1000)
    elif span.get("numberOfOccurrences") not in (None, 0):
        raise _bad("settings.recurrence.range.numberOfOccurrences is only for a range of type numbered")
    return {"pattern": {"type": kind, "interval": interval, "dayOfMonth": day or 0},
            "range": {"type": range_kind, "startDate": start.isoformat(),
                      "endDate": end.isoformat() if end else None, "numberOfOccurrences": count or 0,
                      "recurrenceTimeZone": None}}


def _apply_actions(value: Any, scope: ReviewScope) -> list[dict]:
    if value in (None, []):
        return [{"@odata.type": REMOVE_ACCESS}]
    if not isinstance(value, list) or len(value) != 1:
        raise _bad("settings.applyActions must hold one apply action: removeAccessApplyAction or "
                   "disableAndDeleteUserApplyAction")
    action = value[0]
    kind = action.get("@odata.type") if isinstance(action, dict) else None
    if kind not in (REMOVE_ACCESS, DISABLE_AND_DELETE):
        raise _bad(f"settings.applyActions[0].@odata.type must be {REMOVE_ACCESS} or {DISABLE_AND_DELETE}")
    if any(k != "@odata.type" for k in action):
        raise _bad("settings.applyActions[0] has no properties besides @odata.type")
    if kind == DISABLE_AND_DELETE and not scope.guests_only:
        raise _bad("settings.applyActions: disableAndDeleteUserApplyAction is only for a scope of guests "
                   "($filter=(userType eq 'Guest')): it disables and deletes the denied user")
    return [{"@odata.type": kind}]


def normalized_settings(value: Any, scope: ReviewScope) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _bad("settings must be an object (accessReviewScheduleSettings)")
    unknown = sorted(k for k in value if k not in SETTINGS and "@odata." not in k)
    if unknown:
        raise _bad(f"settings has no property {', '.join(unknown)}")
    if value.get("recommendationInsightSettings") not in (None, []):
        raise _bad("settings.recommendationInsightSettings is not supported: Foyer recommends from the last "
                   "successful sign-in over recommendationLookBackDuration")
    found: dict[str, Any] = {name: _boolean(value, name) for name in BOOLEAN_SETTINGS}
    days = value.get("instanceDurationInDays")
    found["instanceDurationInDays"] = DEFAULT_DURATION_DAYS if days in (None, 0) else \
        _whole(days, "settings.instanceDurationInDays", 1, 180)
    found["recurrence"] = _recurrence(value.get("recurrence"))
    decision = value.get("defaultDecision")
    if decision in (None, ""):
        decision = "None"
    if decision not in DEFAULT_DECISIONS:
        raise _bad("settings.defaultDecision must be Approve, Deny or Recommendation")
    if found["defaultDecisionEnabled"] and decision == "None":
        raise _bad("settings.defaultDecision is required when defaultDecisionEnabled is true: "
                   "Approve, Deny or Recommendation")
    found["defaultDecision"] = decision
    look_back = value.get("recommendationLookBackDuration")
    if look_back in (None, ""):
        look_back = "P30D"
    at_most = "P30D" if scope.kind == "application" else "P3650D"
    try:
        check_duration(look_back, "settings.recommendationLookBackDuration", at_least="P1D", at_most=at_most)
    except ValueError as error:
        raise _bad(str(error)) from None
    found["recommendationLookBackDuration"] = look_back
    found["applyActions"] = _apply_actions(value.get("applyActions"), scope)
    found["recommendationInsightSettings"] = []
    return found


def normalized_definition(body: Any, *, creating: bool) -> tuple[dict, ReviewScope]:
    """The definition as stored (Graph's names) and what its scope says; Refused("invalidRequest")
    naming the field otherwise."""
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object (accessReviewScheduleDefinition)")
    unknown = sorted(k for k in body if k not in PROPERTIES and "@odata." not in k)
    if unknown:
        raise _bad(f"accessReviewScheduleDefinition has no property {', '.join(unknown)[:200]}")
    if body.get("stageSettings") not in (None, []):
        raise _bad("stageSettings: multi-stage reviews are not supported; use one stage (reviewers, settings)")
    if body.get("additionalNotificationRecipients") not in (None, []):
        raise _bad("additionalNotificationRecipients is not supported: the reviewers are mailed")
    try:
        scope = read_scope(body.get("scope"), body.get("instanceEnumerationScope"))
    except ScopeRefused as error:
        raise _bad(str(error)) from None
    definition = {
        "displayName": _text(body, "displayName", required=True),
        "descriptionForAdmins": _text(body, "descriptionForAdmins", required=False, limit=4000),
        "descriptionForReviewers": _text(body, "descriptionForReviewers", required=False, limit=4000),
        "scope": body["scope"],
        "instanceEnumerationScope": body.get("instanceEnumerationScope"),
        "reviewers": _reviewers(body.get("reviewers"), "reviewers", scope),
        "fallbackReviewers": _reviewers(body.get("fallbackReviewers"), "fallbackReviewers", scope),
        "settings": normalized_settings(body.get("settings"), scope),
    }
    if not definition["reviewers"] and definition["fallbackReviewers"]:
        raise _bad("fallbackReviewers: a self-review (reviewers: []) has no fallback reviewers")
    return definition, scope


def definition_refusal(body: Any, *, creating: bool) -> str | None:
    """Why this body is not a definition Foyer can run (naming the field), or None. The users and
    resources it names are checked against the directory by create/update."""
    try:
        normalized_definition(body, creating=creating)
    except Refused as refused:
        return refused.message
    return None


async def _check_references(session: AsyncSession, organization_id: str, definition: dict,
                            scope: ReviewScope) -> None:
    """The resource the scope names and the users and catalogs the reviewers name exist here."""
    models = {"group": (Group, "group"), "application": (Application, "application (servicePrincipal)"),
              "accessPackage": (AccessPackage, "access package")}
    if scope.kind in models and scope.resource_id:
        model, what = models[scope.kind]
        row = await session.get(model, scope.resource_id)
        if row is None or row.organization_id != organization_id:
            raise _bad(f"scope.query: no {what} {scope.resource_id} in this organization")
    for field in ("reviewers", "fallbackReviewers"):
        for index, item in enumerate(definition[field]):
            user = REVIEWER_USER.match(item["query"])
            if user:
                row = await session.get(User, user.group(1))
                if row is None or row.organization_id != organization_id:
                    raise _bad(f"{field}[{index}].query: no user {user.group(1)} in this organization")
            catalog = CATALOG_OWNERS.match(item["query"])
            if catalog:
                row = await session.get(Catalog, catalog.group(1))
                if row is None or row.organization_id != organization_id:
                    raise _bad(f"{field}[{index}].query: no catalog {catalog.group(1)} in this organization")


# --- Graph's shapes ----------------------------------------------------------------------------------------

def identity(user_id: str | None, name: str | None = None, upn: str | None = None) -> dict:
    """Graph's userIdentity; the all-zero id when nobody (not reviewed, not applied)."""
    return {"id": user_id or NO_ONE, "displayName": name or "", "userPrincipalName": upn or ""}


def definition_body(row: AccessReviewDefinition) -> dict:
    return {"id": row.id, "displayName": row.display_name, "descriptionForAdmins": row.description_for_admins,
            "descriptionForReviewers": row.description_for_reviewers,
            "createdBy": identity(*(row.created_by.get(k) for k in ("id", "displayName", "userPrincipalName"))),
            "createdDateTime": _iso(row.created_date_time), "lastModifiedDateTime": _iso(row.last_modified_date_time),
            "status": row.status, "scope": row.scope, "instanceEnumerationScope": row.instance_enumeration_scope,
            "reviewers": row.reviewers, "fallbackReviewers": row.fallback_reviewers,
            "additionalNotificationRecipients": [], "settings": row.settings}


def instance_body(row: AccessReviewInstance, definition: AccessReviewDefinition | None) -> dict:
    return {"id": row.id, "startDateTime": _iso(row.start_date_time), "endDateTime": _iso(row.end_date_time),
            "status": row.status, "scope": row.scope,
            "reviewers": definition.reviewers if definition else [],
            "fallbackReviewers": definition.fallback_reviewers if definition else []}


def decision_body(row: AccessReviewDecision, instance: AccessReviewInstance,
                  names: dict[str, tuple[str | None, str | None]] | None = None) -> dict:
    """accessReviewInstanceDecisionItem; `names`: user id → (displayName, userPrincipalName) of
    the reviewers and appliers these decisions name (`people_named`)."""
    names = names or {}
    reviewer = names.get(row.reviewed_by_id or "", (row.reviewed_by_display_name, None))
    applier = names.get(row.applied_by_id or "", (None, None))
    return {
        "id": row.id, "accessReviewId": instance.id, "decision": row.decision,
        "recommendation": row.recommendation, "justification": row.justification,
        "principal": {"@odata.type": "#microsoft.graph.userIdentity", "id": row.principal_id,
                      "displayName": row.principal_display_name or "",
                      "userPrincipalName": row.principal_user_principal_name or ""},
        "resource": {"id": instance.resource_id or row.access_id, "displayName": instance.resource_display_name,
                     "type": instance.resource_type},
        "reviewedBy": identity(row.reviewed_by_id, row.reviewed_by_display_name or reviewer[0], reviewer[1]),
        "reviewedDateTime": _iso(row.reviewed_date_time),
        "appliedBy": identity(row.applied_by_id, applier[0], applier[1]),
        "appliedDateTime": _iso(row.applied_date_time), "applyResult": row.apply_result,
    }


async def people_named(session: AsyncSession, rows: list[AccessReviewDecision]) -> dict:
    ids = {i for row in rows for i in (row.reviewed_by_id, row.applied_by_id) if i and i != NO_ONE}
    if not ids:
        return {}
    users = (await session.exec(select(User).where(col(User.id).in_(sorted(ids))))).all()
    return {u.id: (u.display_name, u.user_principal_name) for u in users}


# --- definitions ------------------------------------------------------------------------------------------

async def _record(session, organization_id: str, actor: dict, activity: str, target_type: str, target_id: str,
                  target_name: str | None, **details) -> None:
    await audit(session, key=None, category=CATEGORY, activity=activity, organization_id=organization_id,
                **actor, target_type=target_type, target_id=target_id, target_name=target_name, details=details)


def _columns(definition: dict) -> dict:
    return {"display_name": definition["displayName"], "description_for_admins": definition["descriptionForAdmins"],
            "description_for_reviewers": definition["descriptionForReviewers"], "scope": definition["scope"],
            "instance_enumeration_scope": definition["instanceEnumerationScope"],
            "reviewers": definition["reviewers"], "fallback_reviewers": definition["fallbackReviewers"],
            "settings": definition["settings"]}


async def list_definitions(session: AsyncSession, organization_id: str) -> list[AccessReviewDefinition]:
    return list((await session.exec(select(AccessReviewDefinition).where(
        AccessReviewDefinition.organization_id == organization_id).order_by(
        AccessReviewDefinition.created_date_time, AccessReviewDefinition.id))).all())


async def get_definition(session: AsyncSession, organization_id: str, definition_id: str) -> AccessReviewDefinition:
    row = await session.get(AccessReviewDefinition, definition_id) if len(definition_id) <= 64 else None
    if row is None or row.organization_id != organization_id:
        raise Refused("Request_ResourceNotFound", f"access review {definition_id[:64]} does not exist",
                      status_hint=404)
    return row


async def create_definition(session: AsyncSession, organization_id: str, actor: dict, created_by: dict,
                            body: Any) -> AccessReviewDefinition:
    """`created_by`: the userIdentity of who creates it ({"id", "displayName", "userPrincipalName"})."""
    definition, scope = normalized_definition(body, creating=True)
    await _check_references(session, organization_id, definition, scope)
    row = AccessReviewDefinition(organization_id=organization_id, created_by=created_by, status="NotStarted",
                                 **_columns(definition))
    session.add(row)
    await _record(session, organization_id, actor, "Create access review", "AccessReview", row.id,
                  row.display_name, scope=scope.kind, after=definition)
    await commit(session, "the access review could not be saved")
    return row


def _stored(row: AccessReviewDefinition) -> dict:
    return {"displayName": row.display_name, "descriptionForAdmins": row.description_for_admins,
            "descriptionForReviewers": row.description_for_reviewers, "scope": row.scope,
            "instanceEnumerationScope": row.instance_enumeration_scope, "reviewers": row.reviewers,
            "fallbackReviewers": row.fallback_reviewers, "settings": row.settings}


async def update_definition(session: AsyncSession, organization_id: str, actor: dict, definition_id: str,
                            body: Any, *, replace: bool) -> AccessReviewDefinition:
    """PUT (`replace`: the body is the whole definition) or PATCH (the top-level properties given
    replace the stored ones; `settings` merges). The scope and the recurrence cannot change (stop
    the review and create another); the rest applies to the instances that start afterwards."""
    row = await get_definition(session, organization_id, definition_id)
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object (accessReviewScheduleDefinition)")
    if row.status == "Completed":
        raise Refused("accessReviewCompleted", "this access review is stopped or completed: it cannot change",
                      status_hint=409)
    before = _stored(row)
    given = {k: v for k, v in body.items() if "@odata." not in k and k not in READ_ONLY}
    if replace:
        merged = {"scope": before["scope"], "instanceEnumerationScope": before["instanceEnumerationScope"], **given}
    else:
        if not given:
            raise _bad("nothing to update: give displayName, descriptions, reviewers, fallbackReviewers or settings")
        merged = {**before, **given}
        if isinstance(given.get("settings"), dict):
            merged["settings"] = {**before["settings"], **given["settings"]}
    if merged.get("scope") != before["scope"] or \
            merged.get("instanceEnumerationScope") != before["instanceEnumerationScope"]:
        raise _bad("scope and instanceEnumerationScope cannot change: create another access review")
    definition, _ = normalized_definition(merged, creating=False)
    scope = read_scope(definition["scope"], definition["instanceEnumerationScope"])
    if (definition["settings"].get("recurrence") != before["settings"].get("recurrence")):
        raise _bad("settings.recurrence cannot change: its schedule is running; stop this access review "
                   "and create another")
    await _check_references(session, organization_id, definition, scope)
    for name, value in _columns(definition).items():
        setattr(row, name, value)
    row.last_modified_date_time = utcnow()
    session.add(row)
    differs = [k for k in before if before[k] != definition[k]]
    await _record(session, organization_id, actor, "Update access review", "AccessReview", row.id, row.display_name,
                  modifiedProperties=",".join(differs), before={k: before[k] for k in differs},
                  after={k: definition[k] for k in differs})
    await commit(session, "the access review could not be saved")
    return row


OPEN = ("NotStarted", "Initializing", "Starting", IN_PROGRESS, "Completing")


async def open_instance_ids(session: AsyncSession, definition_id: str) -> list[str]:
    """The definition's instances still running (whose workflows a stop or a delete ends)."""
    return list((await session.exec(select(AccessReviewInstance.id).where(
        AccessReviewInstance.definition_id == definition_id, col(AccessReviewInstance.status).in_(OPEN)))).all())


async def delete_definition(session: AsyncSession, organization_id: str, actor: dict,
                            definition_id: str) -> list[str]:
    """The definition, its instances and their decisions; returns the ids of the instances that
    were open (the router then deletes its schedule and stops their workflows)."""
    row = await get_definition(session, organization_id, definition_id)
    still_open = await open_instance_ids(session, row.id)
    instance_ids = list((await session.exec(select(AccessReviewInstance.id).where(
        AccessReviewInstance.definition_id == row.id))).all())
    if instance_ids:
        await session.exec(delete(AccessReviewDecision).where(  # type: ignore[call-overload]
            col(AccessReviewDecision.instance_id).in_(instance_ids)))
        await session.exec(delete(AccessReviewInstance).where(  # type: ignore[call-overload]
            AccessReviewInstance.definition_id == row.id))
    await _record(session, organization_id, actor, "Delete access review", "AccessReview", row.id, row.display_name,
                  before=_stored(row), instances=len(instance_ids))
    await session.delete(row)
    await commit(session, "the access review could not be deleted")
    return still_open


async def stop_definition(session: AsyncSession, organization_id: str, actor: dict,
                          definition_id: str) -> list[str]:
    """Marks the definition Completed (no more occurrences) and returns its open instances' ids;
    the router then deletes its schedule and stops them. Stopping a stopped definition changes
    nothing (and stops what may still run)."""
    row = await get_definition(session, organization_id, definition_id)
    still_open = await open_instance_ids(session, row.id)
    if row.status != "Completed":
        row.status = "Completed"
        row.last_modified_date_time = utcnow()
        session.add(row)
        await _record(session, organization_id, actor, "Stop access review", "AccessReview", row.id, row.display_name)
        await commit(session, "the access review could not be stopped")
    return still_open


# --- instances ------------------------------------------------------------------------------------------

def is_reviewer(instance: AccessReviewInstance, user_id: str | None) -> bool:
    return user_id is not None and user_id in (instance.reviewer_ids or [])


async def self_review(session: AsyncSession, instance: AccessReviewInstance) -> bool:
    """Whether each person reviews their own access: the definition names no reviewers
    (`reviewers: []`). An instance whose reviewers resolved to nobody is not one (nobody but an
    administrator's stop decides it)."""
    if instance.reviewer_ids:
        return False
    definition = await session.get(AccessReviewDefinition, instance.definition_id)
    return definition is not None and not definition.reviewers


async def list_instances(session: AsyncSession, definition: AccessReviewDefinition) -> list[AccessReviewInstance]:
    return list((await session.exec(select(AccessReviewInstance).where(
        AccessReviewInstance.definition_id == definition.id).order_by(
        AccessReviewInstance.start_date_time, AccessReviewInstance.id))).all())


async def readable_instance(session: AsyncSession, instance: AccessReviewInstance, user_id: str | None,
                            is_admin: bool) -> AccessReviewInstance:
    """The instance, if the caller may read it (an administrator, a reviewer, or the person a
    self-review is about); Refused (403) otherwise."""
    await decision_filters(session, instance, user_id, is_admin)
    return instance


async def get_instance(session: AsyncSession, definition: AccessReviewDefinition,
                       instance_id: str) -> AccessReviewInstance:
    row = await session.get(AccessReviewInstance, instance_id) if len(instance_id) <= 64 else None
    if row is None or row.definition_id != definition.id:
        raise Refused("Request_ResourceNotFound", f"access review instance {instance_id[:64]} does not exist",
                      status_hint=404)
    return row


async def self_reviewed_instance_ids(session: AsyncSession, organization_id: str, user_id: str,
                                     instance_ids: list[str] | None = None) -> set[str]:
    """The instances (of `instance_ids`, or all) in which `user_id` has a decision of their own."""
    statement = select(AccessReviewDecision.instance_id).where(
        AccessReviewDecision.organization_id == organization_id, AccessReviewDecision.principal_id == user_id)
    if instance_ids is not None:
        statement = statement.where(col(AccessReviewDecision.instance_id).in_(instance_ids))
    return set((await session.exec(statement)).all())


async def instances_for_reviewer(session: AsyncSession, organization_id: str, user_id: str, *,
                                 definition_id: str | None = None,
                                 in_progress_only: bool = False) -> list[AccessReviewInstance]:
    """The instances `user_id` reviews: named among their reviewers, or a self-review of their own
    access. JSON containment differs between SQLite and PostgreSQL: read the candidates and check
    the reviewer list here (instances are few; decisions, which are many, are not read)."""
    statement = select(AccessReviewInstance).where(AccessReviewInstance.organization_id == organization_id)
    if definition_id is not None:
        statement = statement.where(AccessReviewInstance.definition_id == definition_id)
    if in_progress_only:
        statement = statement.where(AccessReviewInstance.status == IN_PROGRESS)
    rows = list((await session.exec(statement.order_by(AccessReviewInstance.end_date_time,
                                                       AccessReviewInstance.id))).all())
    self_reviews = [r.id for r in rows if await self_review(session, r)]
    mine = await self_reviewed_instance_ids(session, organization_id, user_id, self_reviews) if self_reviews else set()
    return [r for r in rows if is_reviewer(r, user_id) or r.id in mine]


async def definitions_for_reviewer(session: AsyncSession, organization_id: str,
                                   user_id: str) -> list[AccessReviewDefinition]:
    ids = {r.definition_id for r in await instances_for_reviewer(session, organization_id, user_id)}
    return [d for d in await list_definitions(session, organization_id) if d.id in ids]


# --- decisions ------------------------------------------------------------------------------------------

def may_read_all(instance: AccessReviewInstance, user_id: str | None, is_admin: bool) -> bool:
    return is_admin or is_reviewer(instance, user_id)


async def decision_filters(session: AsyncSession, instance: AccessReviewInstance, user_id: str | None,
                           is_admin: bool) -> list:
    """The conditions on AccessReviewDecision that leave what the caller may read: all of the
    instance's decisions for an administrator or a reviewer; in a self-review, the caller's own;
    otherwise Refused (403)."""
    clauses = [AccessReviewDecision.instance_id == instance.id]
    if may_read_all(instance, user_id, is_admin):
        return clauses
    if not (user_id and await self_review(session, instance) and instance.id in await self_reviewed_instance_ids(
            session, instance.organization_id, user_id, [instance.id])):
        raise _not_a_reviewer()
    return [*clauses, AccessReviewDecision.principal_id == user_id]


async def decision_counts(session: AsyncSession, instance: AccessReviewInstance, user_id: str) -> tuple[int, int]:
    """(people, not reviewed yet) among the decisions `user_id` makes in this instance (all of
    them for a reviewer, their own in a self-review), counted by the database."""
    clauses = await decision_filters(session, instance, user_id, False)
    rows = (await session.exec(select(AccessReviewDecision.decision, func.count()).where(*clauses).group_by(
        AccessReviewDecision.decision))).all()
    counts = dict(rows)
    return sum(counts.values()), counts.get("NotReviewed", 0)


async def visible_decisions(session: AsyncSession, instance: AccessReviewInstance, user_id: str | None,
                            is_admin: bool, *, decision: str | None = None) -> list[AccessReviewDecision]:
    """The decisions the caller may read: all of them for an administrator or a reviewer; in a
    self-review, the caller's own; otherwise Refused (403)."""
    statement = select(AccessReviewDecision).where(*await decision_filters(session, instance, user_id, is_admin))
    if decision is not None:
        statement = statement.where(AccessReviewDecision.decision == decision)
    return list((await session.exec(statement.order_by(AccessReviewDecision.principal_display_name,
                                                       AccessReviewDecision.id))).all())


def _not_a_reviewer() -> Refused:
    return Refused("Authorization_RequestDenied", "you are not a reviewer of this access review instance")


async def get_decision(session: AsyncSession, instance: AccessReviewInstance, decision_id: str,
                       user_id: str | None, is_admin: bool) -> AccessReviewDecision:
    row = await session.get(AccessReviewDecision, decision_id) if len(decision_id) <= 64 else None
    if row is None or row.instance_id != instance.id:
        raise Refused("Request_ResourceNotFound", f"decision {decision_id[:64]} does not exist", status_hint=404)
    own = user_id is not None and row.principal_id == user_id and await self_review(session, instance)
    if not (may_read_all(instance, user_id, is_admin) or own):
        raise _not_a_reviewer()
    return row


async def may_decide(session: AsyncSession, instance: AccessReviewInstance, row: AccessReviewDecision,
                     user_id: str | None) -> bool:
    if user_id is None:
        return False
    return is_reviewer(instance, user_id) or (row.principal_id == user_id and await self_review(session, instance))


def _require_in_progress(instance: AccessReviewInstance) -> None:
    if instance.status != IN_PROGRESS:
        raise Refused("accessReviewNotInProgress", f"this access review instance is {instance.status}, not "
                      "InProgress: decisions can be recorded only while it is in progress", status_hint=409)


async def _settings_of(session: AsyncSession, instance: AccessReviewInstance) -> dict:
    definition = await session.get(AccessReviewDefinition, instance.definition_id)
    return (definition.settings if definition else None) or {}


def _decision_value(decision: Any, justification: Any, settings: dict) -> tuple[str, str | None]:
    if decision not in DECISIONS:
        raise _bad("decision must be Approve, Deny, DontKnow or NotReviewed")
    if justification is not None and not isinstance(justification, str):
        raise _bad("justification must be a string")
    justification = (justification or "").strip() or None
    if justification and len(justification) > 2000:
        raise _bad("justification is longer than 2000 characters")
    if decision == "Approve" and settings.get("justificationRequiredOnApproval") and not justification:
        raise _bad("justification is required to approve: this access review asks for one")
    return decision, justification


def _set(row: AccessReviewDecision, decision: str, justification: str | None, reviewer: User, now) -> None:
    row.decision, row.justification = decision, justification
    if decision == "NotReviewed":
        row.reviewed_by_id = row.reviewed_by_display_name = row.reviewed_date_time = None
    else:
        row.reviewed_by_id, row.reviewed_by_display_name = reviewer.id, reviewer.display_name or reviewer.mail
        row.reviewed_date_time = now


async def record_decision(session: AsyncSession, instance: AccessReviewInstance, decision_id: str, reviewer: User,
                          decision: Any, justification: Any) -> AccessReviewDecision:
    """One reviewer's decision on one person (Graph's PATCH of a decision item)."""
    row = await get_decision(session, instance, decision_id, reviewer.id, False)
    if not await may_decide(session, instance, row, reviewer.id):
        raise _not_a_reviewer()
    _require_in_progress(instance)
    decision, justification = _decision_value(decision, justification, await _settings_of(session, instance))
    _set(row, decision, justification, reviewer, utcnow())
    session.add(row)
    await _record(session, instance.organization_id, {"actor_id": reviewer.id, "actor_name": reviewer.display_name},
                  "Record access review decision", "User", row.principal_id, row.principal_display_name,
                  instance=instance.id, decision=decision, justification=justification)
    await commit(session, "the decision changed concurrently; retry")
    return row


async def _decidable(session: AsyncSession, instance: AccessReviewInstance, reviewer: User, *,
                     principal_id: str | None = None, resource_id: str | None = None,
                     not_reviewed_only: bool = False) -> list[AccessReviewDecision]:
    own = await self_review(session, instance) and instance.id in await self_reviewed_instance_ids(
        session, instance.organization_id, reviewer.id, [instance.id])
    if not (is_reviewer(instance, reviewer.id) or own):
        raise _not_a_reviewer()
    _require_in_progress(instance)
    statement = select(AccessReviewDecision).where(AccessReviewDecision.instance_id == instance.id)
    if not is_reviewer(instance, reviewer.id):
        statement = statement.where(AccessReviewDecision.principal_id == reviewer.id)
    if principal_id:
        statement = statement.where(AccessReviewDecision.principal_id == principal_id)
    if not_reviewed_only:
        statement = statement.where(AccessReviewDecision.decision == "NotReviewed")
    rows = list((await session.exec(statement)).all())
    if resource_id:
        rows = [r for r in rows if resource_id in (r.access_id, instance.resource_id)]
    return rows


async def accept_recommendations(session: AsyncSession, instance: AccessReviewInstance, reviewer: User) -> int:
    """Each decision of the reviewer's still NotReviewed takes its recommendation (Approve or
    Deny; NoInfoAvailable stays NotReviewed). Returns how many were decided."""
    rows = await _decidable(session, instance, reviewer, not_reviewed_only=True)
    now, decided = utcnow(), 0
    for row in rows:
        if row.recommendation in ("Approve", "Deny"):
            _set(row, row.recommendation, "Accepted the recommendation", reviewer, now)
            session.add(row)
            decided += 1
    await _record(session, instance.organization_id, {"actor_id": reviewer.id, "actor_name": reviewer.display_name},
                  "Accept access review recommendations", "AccessReviewInstance", instance.id,
                  instance.resource_display_name, decided=decided)
    await commit(session, "the decisions changed concurrently; retry")
    return decided


async def batch_record_decisions(session: AsyncSession, instance: AccessReviewInstance, reviewer: User,
                                 body: Any) -> int:
    """Graph's batchRecordDecisions {decision, justification, principalId, resourceId}: the same
    decision for every decision the reviewer may make (narrowed to one principal or resource)."""
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object {decision, justification, principalId, resourceId}")
    unknown = sorted(k for k in body if k not in ("decision", "justification", "principalId", "resourceId")
                     and "@odata." not in k)
    if unknown:
        raise _bad(f"batchRecordDecisions has no parameter {', '.join(unknown)[:200]}")
    for name in ("principalId", "resourceId"):
        if body.get(name) is not None and (not isinstance(body[name], str) or len(body[name]) > 64):
            raise _bad(f"{name} must be an id")
    settings = await _settings_of(session, instance)
    decision, justification = _decision_value(body.get("decision"), body.get("justification"), settings)
    rows = await _decidable(session, instance, reviewer, principal_id=body.get("principalId") or None,
                            resource_id=body.get("resourceId") or None)
    now = utcnow()
    for row in rows:
        _set(row, decision, justification, reviewer, now)
        session.add(row)
    await _record(session, instance.organization_id, {"actor_id": reviewer.id, "actor_name": reviewer.display_name},
                  "Batch record access review decisions", "AccessReviewInstance", instance.id,
                  instance.resource_display_name, decision=decision, decisions=len(rows))
    await commit(session, "the decisions changed concurrently; retry")
    return len(rows)


async def reset_decisions(session: AsyncSession, instance: AccessReviewInstance, actor: dict) -> int:
    """Every decision of the instance back to NotReviewed (an administrator's action)."""
    _require_in_progress(instance)
    rows = list((await session.exec(select(AccessReviewDecision).where(
        AccessReviewDecision.instance_id == instance.id, AccessReviewDecision.decision != "NotReviewed"))).all())
    for row in rows:
        row.decision, row.justification = "NotReviewed", None
        row.reviewed_by_id = row.reviewed_by_display_name = row.reviewed_date_time = None
        session.add(row)
    await _record(session, instance.organization_id, actor, "Reset access review decisions", "AccessReviewInstance",
                  instance.id, instance.resource_display_name, decisions=len(rows))
    await commit(session, "the decisions changed concurrently; retry")
    return len(rows)


async def audit_instance_action(session: AsyncSession, instance: AccessReviewInstance, actor: dict,
                                activity: str) -> None:
    """An administrator's action on an instance that a workflow carries out (stop, apply, remind)."""
    await _record(session, instance.organization_id, actor, activity, "AccessReviewInstance", instance.id,
                  instance.resource_display_name, workflowId=instance.workflow_id)
    await commit(session, "the access review instance changed concurrently; retry")
