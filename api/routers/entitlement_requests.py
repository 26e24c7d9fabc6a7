"""`/v1.0/identityGovernance/entitlementManagement/assignmentRequests`: asking for an access
package (for oneself, on behalf of someone, or as an administrator), following and canceling the
request. The assignments it makes are in entitlement_assignments, approvals in
entitlement_approvals.

Each request is an AccessRequestWorkflow (workflows.client.access_requests.submit_request submits
to it); this router checks the body's shape (api.schemas.entitlement), builds the
AccessRequestSpec and reads back what the workflow recorded. The policy checks (who may ask, for
whom, answers, separation of duties) are the workflow's.

Who sees what: administrators (Global Administrator, User Administrator) everything; the owners
of a catalog the requests and assignments of its access packages; everyone else the requests
they made or that are for them, and their own assignments. Approvers of a request may also read
that request (its justification and answers are what they decide on).
"""

import uuid

from fastapi import Request
from sqlmodel import col, select

import foyer.api.schemas.entitlement_responses as shapes
from foyer.api.deps import CallerDep, OrganizationDep, SessionDep, TemporalDep, person
from foyer.api.errors import GraphError, bad_request
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter, listed
from foyer.api.odata import list_page, select_fields
from foyer.api.schemas import iso
from foyer.api.schemas.entitlement import ADMIN_TYPES, AssignmentRequestCreate
from foyer.usecases.authz import request_scope, visible_request
from foyer.usecases.catalogs import users_by_id
from foyer.models.directory import User
from foyer.models.entitlement import Assignment, AssignmentRequest
from foyer.workflows.client import access_requests
from foyer.workflows.messages.access import ADD_TYPES, AccessRequestSpec, CancelRequest
from foyer.workflows.messages.assignment import assignment_id_for_request

router = GraphRouter(prefix=ENTITLEMENT_PREFIX, tags=["entitlement management"])

# Requests in these states have (or had) an assignment of their own.
DELIVERY_STATES = ("delivering", "delivered", "partiallyDelivered", "deliveryFailed")
REQUEST_FIELDS = {"id": "id", "state": "state", "requestType": "request_type",
                  "createdDateTime": "created_date_time", "completedDateTime": "completed_date_time",
                  "accessPackageId": "access_package_id", "targetId": "target_id",
                  "requestorId": "requestor_id",
                  # Graph v1.0 filters requests by these paths.
                  "accessPackage/id": "access_package_id", "requestor/objectId": "requestor_id"}

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


async def request_bodies(session, rows: list[AssignmentRequest]) -> list[dict]:
    users = await users_by_id(session, [r.requestor_id for r in rows])
    derived = [assignment_id_for_request(r.id) for r in rows
               if not r.assignment_id and r.request_type in ADD_TYPES and r.state in DELIVERY_STATES]
    existing = set((await session.exec(select(Assignment.id).where(
        col(Assignment.id).in_(derived)))).all()) if derived else set()
    return [request_body(r, users, existing) for r in rows]


# --- assignmentRequests ---------------------------------------------------------------------

@router.post("/assignmentRequests", status_code=201, response_model=shapes.AccessPackageAssignmentRequest)
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
    spec = AccessRequestSpec(
        request_id=str(uuid.uuid4()), organization_id=org.id, request_type=body.request_type,
        access_package_id=body.assignment.access_package_id,
        assignment_policy_id=body.assignment.assignment_policy_id,
        requestor_id=caller.user_id, requestor_is_admin=caller.is_admin,
        target_id=body.assignment.target_id or caller.user_id,
        justification=body.justification, answers=body.answers,
        schedule=body.schedule.stored() if body.schedule else {})
    await session.close()  # nothing to hold open while the workflow checks and records
    plan = await access_requests.submit_request(client, spec)
    row = await session.get(AssignmentRequest, plan.request_id)
    return (await request_bodies(session, [row]))[0]


@router.get("/assignmentRequests", response_model=shapes.RequestCollection)
async def list_requests(request: Request, caller: CallerDep, session: SessionDep,
                        org: OrganizationDep) -> dict:
    page = await list_page(request, session, AssignmentRequest, REQUEST_FIELDS,
                           where=await request_scope(session, org.id, caller),
                           default_order=("created_date_time", "id"), default_desc=True)
    return listed(request, page, await request_bodies(session, page.rows))


@router.get("/assignmentRequests/filterByCurrentUser(on='{on}')", response_model=shapes.RequestCollection)
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


@router.get("/assignmentRequests/{request_id}", response_model=shapes.AccessPackageAssignmentRequest)
async def get_request_by_id(request_id: str, request: Request, caller: CallerDep,
                            session: SessionDep, org: OrganizationDep) -> dict:
    row = await visible_request(session, org.id, caller, request_id)
    return select_fields(request.query_params, (await request_bodies(session, [row]))[0])


@router.post("/assignmentRequests/{request_id}/cancel", response_model=shapes.AccessPackageAssignmentRequest)
async def cancel_request(request_id: str, caller: CallerDep, session: SessionDep,
                         org: OrganizationDep, client: TemporalDep) -> dict:
    row = await visible_request(session, org.id, caller, request_id)
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
