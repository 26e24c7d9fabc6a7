"""`/v1.0/identityGovernance/entitlementManagement/assignmentRequests`: asking for an access
package (for oneself, on behalf of someone, or as an administrator), following and canceling the
request. The assignments it makes are in entitlement_assignments, approvals in
entitlement_approvals.

Each request is an AccessRequestWorkflow (workflows.client.access_requests submits to it); this router checks
the body's shape, builds the AccessRequestSpec and reads back what the workflow recorded. The
policy checks (who may ask, for whom, answers, separation of duties) are the workflow's.

Who sees what: administrators (Global Administrator, User Administrator) everything; the owners
of a catalog the requests and assignments of its access packages; everyone else the requests
they made or that are for them, and their own assignments. Approvers of a request may also read
that request (its justification and answers are what they decide on).
"""

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import Field, field_validator, model_validator
from sqlalchemy import false, or_
from sqlmodel import col, select

from workflows.messages.access import ADD_TYPES, AccessRequestSpec
from workflows.messages.assignment import assignment_id_for_request
from workflows.client import access_requests
from api.deps import Caller, CallerDep, OrganizationDep, SessionDep, TemporalDep
from api.errors import GraphError, bad_request, not_found
from api.odata import collection, list_page, select_fields
from api.routers.entitlement_catalog import PREFIX, owned_catalog_ids
from api.schemas import GraphModel, iso, utc
from foyer.durations import check_duration
from foyer.names import MultilineText
from models.base import utcnow
from models.directory import Organization, User
from models.entitlement import AccessPackage, ApprovalStage, Assignment, AssignmentPolicy, AssignmentRequest
from workflows.access_request import CancelRequest

router = APIRouter(prefix=PREFIX, tags=["entitlement management"])

USER_TYPES = ("userAdd", "userUpdate", "userRemove")
ADMIN_TYPES = ("adminAdd", "adminUpdate", "adminRemove")
# Requests in these states have (or had) an assignment of their own.
DELIVERY_STATES = ("delivering", "delivered", "partiallyDelivered", "deliveryFailed")
EXPIRATION_TYPES = ("notSpecified", "noExpiration", "afterDateTime", "afterDuration")
LONGEST_SCHEDULE = timedelta(days=3650)
START_TOLERANCE = timedelta(minutes=5)

REQUEST_FIELDS = {"id": "id", "state": "state", "requestType": "request_type",
                  "createdDateTime": "created_date_time", "completedDateTime": "completed_date_time",
                  "accessPackageId": "access_package_id", "targetId": "target_id",
                  "requestorId": "requestor_id",
                  # Graph v1.0 filters requests by these paths.
                  "accessPackage/id": "access_package_id", "requestor/objectId": "requestor_id"}
IDENTIFIER = Field(min_length=1, max_length=100)


# --- request bodies -------------------------------------------------------------------------

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


# --- visibility -----------------------------------------------------------------------------

def person(caller: Caller) -> str:
    """The caller's directory user, for what only a person has (their requests, approvals)."""
    if caller.user_id is None:
        raise GraphError(403, "Authorization_RequestDenied",
                         "this token does not belong to a directory user; filterByCurrentUser and "
                         "approvals need a person's token")
    return caller.user_id


async def owned_packages(session, org: Organization, caller: Caller):
    owned = await owned_catalog_ids(session, org, caller)
    if not owned:
        return None
    return select(AccessPackage.id).where(AccessPackage.organization_id == org.id,
                                          col(AccessPackage.catalog_id).in_(owned))


async def request_scope(session, org: Organization, caller: Caller) -> list:
    """The requests a caller may list."""
    where = [AssignmentRequest.organization_id == org.id]
    if caller.is_admin:
        return where
    clauses = []
    if caller.user_id:
        clauses += [AssignmentRequest.requestor_id == caller.user_id,
                    AssignmentRequest.target_id == caller.user_id]
    owned = await owned_packages(session, org, caller)
    if owned is not None:
        clauses.append(col(AssignmentRequest.access_package_id).in_(owned))
    where.append(or_(*clauses) if clauses else false())
    return where


async def approver_ids(session, request_id: str) -> set[str]:
    rows = (await session.exec(select(ApprovalStage.approver_ids).where(
        ApprovalStage.request_id == request_id))).all()
    return {user_id for ids in rows for user_id in ids or []}


async def get_request(session, org: Organization, caller: Caller, request_id: str, *,
                      approvers: bool = True) -> AssignmentRequest:
    """The request if the caller may see it (its approvers too, unless `approvers` is False);
    404 otherwise, so that others cannot tell it exists."""
    row = await session.get(AssignmentRequest, request_id)
    if row is None or row.organization_id != org.id:
        raise not_found(f"assignment request {request_id}")
    if caller.is_admin or (caller.user_id and caller.user_id in (row.requestor_id, row.target_id)):
        return row
    owned = await owned_packages(session, org, caller)
    if owned is not None and row.access_package_id in set((await session.exec(owned)).all()):
        return row
    if approvers and caller.user_id and caller.user_id in await approver_ids(session, row.id):
        return row
    raise not_found(f"assignment request {request_id}")


# --- shapes ---------------------------------------------------------------------------------

def _subject(user_id: str | None, users: dict[str, User]) -> dict | None:
    if user_id is None:
        return None
    user = users.get(user_id)
    # Graph's accessPackageSubject names the directory user by objectId.
    return {"id": user_id, "objectId": user_id, "displayName": user.display_name if user else None,
            "email": user.mail if user else None}


def _assignment_id(row: AssignmentRequest, existing: set[str]) -> str | None:
    if row.assignment_id:
        return row.assignment_id
    # An add request's assignment is named after the request (activities.access.record_request);
    # it is shown once it exists.
    derived = assignment_id_for_request(row.id)
    return derived if derived in existing else None


def request_body(row: AssignmentRequest, users: dict[str, User], existing: set[str]) -> dict:
    return {
        "id": row.id,
        "requestType": row.request_type,
        "state": row.state,
        "status": row.status,
        "createdDateTime": iso(row.created_date_time),
        "completedDateTime": iso(row.completed_date_time),
        "justification": row.justification,
        "answers": row.answers or [],
        "schedule": row.schedule or {},
        "requestor": _subject(row.requestor_id, users),
        "accessPackage": {"id": row.access_package_id},
        "assignment": {"id": _assignment_id(row, existing), "targetId": row.target_id,
                       "accessPackageId": row.access_package_id,
                       "assignmentPolicyId": row.assignment_policy_id},
        "foyerWorkflowId": row.workflow_id,
    }


async def users_by_id(session, ids) -> dict[str, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in (await session.exec(select(User).where(col(User.id).in_(ids)))).all()}


async def request_bodies(session, rows: list[AssignmentRequest]) -> list[dict]:
    users = await users_by_id(session, [r.requestor_id for r in rows])
    derived = [assignment_id_for_request(r.id) for r in rows
               if not r.assignment_id and r.request_type in ADD_TYPES and r.state in DELIVERY_STATES]
    existing = set((await session.exec(select(Assignment.id).where(
        col(Assignment.id).in_(derived)))).all()) if derived else set()
    return [request_body(r, users, existing) for r in rows]


def listed(request: Request, page, bodies: list[dict]) -> dict:
    rows = iter(bodies)
    return collection(request, page, lambda _: next(rows))


# --- assignmentRequests ---------------------------------------------------------------------

async def _check_references(session, org: Organization, caller: Caller,
                            body: AssignmentRequestCreate) -> str:
    """404 for a package or target that does not exist, 400 for a policy of another package;
    returns the target's id."""
    reference = body.assignment
    package = await session.get(AccessPackage, reference.access_package_id)
    if package is None or package.organization_id != org.id:
        raise not_found(f"access package {reference.access_package_id}")
    if reference.assignment_policy_id:
        policy = await session.get(AssignmentPolicy, reference.assignment_policy_id)
        if policy is None or policy.access_package_id != package.id:
            raise bad_request(f"assignment.assignmentPolicyId: the access package has no assignment "
                              f"policy {reference.assignment_policy_id}")
    elif body.request_type in ADD_TYPES:
        raise bad_request("assignment.assignmentPolicyId is required to add an assignment")
    target_id = reference.target_id or caller.user_id
    target = await session.get(User, target_id)
    if target is None or target.organization_id != org.id:
        raise not_found(f"user {target_id}")
    return target_id


@router.post("/assignmentRequests", status_code=201)
async def create_request(body: AssignmentRequestCreate, caller: CallerDep, session: SessionDep,
                         org: OrganizationDep, client: TemporalDep) -> dict:
    if body.request_type in ADMIN_TYPES:
        if not caller.is_admin:
            raise GraphError(403, "Authorization_RequestDenied",
                             f"{body.request_type} needs the Global Administrator or User Administrator "
                             "role; ask with userAdd, userUpdate or userRemove instead")
        if not body.assignment.target_id:
            raise bad_request(f"assignment.targetId is required for {body.request_type}")
    elif caller.user_id is None:
        raise bad_request(f"{body.request_type} is asked by a person: this token does not belong to a "
                          "directory user (an administrator assigns with adminAdd)")
    target_id = await _check_references(session, org, caller, body)
    spec = AccessRequestSpec(
        request_id=str(uuid.uuid4()), organization_id=org.id, request_type=body.request_type,
        access_package_id=body.assignment.access_package_id,
        assignment_policy_id=body.assignment.assignment_policy_id,
        requestor_id=caller.user_id, requestor_is_admin=caller.is_admin, target_id=target_id,
        justification=body.justification, answers=body.answers,
        schedule=body.schedule.stored() if body.schedule else {})
    await session.close()  # nothing to hold open while the workflow checks and records
    plan = await access_requests.submit(client, spec)
    row = await session.get(AssignmentRequest, plan.request_id)
    return (await request_bodies(session, [row]))[0]


@router.get("/assignmentRequests")
async def list_requests(request: Request, caller: CallerDep, session: SessionDep,
                        org: OrganizationDep) -> dict:
    page = await list_page(request, session, AssignmentRequest, REQUEST_FIELDS,
                           where=await request_scope(session, org, caller),
                           default_order=("created_date_time", "id"), default_desc=True)
    return listed(request, page, await request_bodies(session, page.rows))


@router.get("/assignmentRequests/filterByCurrentUser(on='{on}')")
async def my_requests(on: str, request: Request, caller: CallerDep, session: SessionDep,
                      org: OrganizationDep) -> dict:
    """Graph's function for the caller's own requests: on='target' (for me) or on='createdBy'
    (made by me)."""
    me = person(caller)
    columns = {"target": AssignmentRequest.target_id, "createdBy": AssignmentRequest.requestor_id}
    if on not in columns:
        raise bad_request("filterByCurrentUser: on must be 'target' or 'createdBy'")
    page = await list_page(request, session, AssignmentRequest, REQUEST_FIELDS,
                           where=[AssignmentRequest.organization_id == org.id, columns[on] == me],
                           default_order=("created_date_time", "id"), default_desc=True)
    return listed(request, page, await request_bodies(session, page.rows))


@router.get("/assignmentRequests/{request_id}")
async def get_request_by_id(request_id: str, request: Request, caller: CallerDep,
                            session: SessionDep, org: OrganizationDep) -> dict:
    row = await get_request(session, org, caller, request_id)
    return select_fields(request.query_params, (await request_bodies(session, [row]))[0])


@router.post("/assignmentRequests/{request_id}/cancel")
async def cancel_request(request_id: str, caller: CallerDep, session: SessionDep,
                         org: OrganizationDep, client: TemporalDep) -> dict:
    row = await get_request(session, org, caller, request_id)
    if not caller.is_admin and (caller.user_id is None or caller.user_id != row.requestor_id):
        raise GraphError(403, "requestNotAllowed", "only the requestor or an administrator can cancel")
    if row.state != "pendingApproval":
        raise GraphError(409, "requestNotCancelable",
                         f"the request is {row.state}; only a request waiting for approval can be canceled")
    workflow_id = row.workflow_id
    await session.close()
    await access_requests.cancel(client, workflow_id, CancelRequest(
        by_user_id=caller.user_id, by_admin=caller.is_admin))
    row = await session.get(AssignmentRequest, request_id)
    return (await request_bodies(session, [row]))[0]
