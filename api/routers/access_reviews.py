"""`/v1.0/identityGovernance/accessReviews` (Graph): access review definitions, their instances
and the instances' decisions.

- `definitions`: GET, POST → 201 (then its Schedule starts); `definitions/{id}`: GET, PUT and
  PATCH → 204, DELETE → 204 (its schedule and open instances stop); `definitions/{id}/stop` → 204;
  `definitions/filterByCurrentUser(on='reviewer')`.
- `definitions/{id}/instances` and `/{id}`, `instances/filterByCurrentUser(on='reviewer')`; the
  instance's actions (POST, 204): `stop`, `applyDecisions`, `sendReminder`, `resetDecisions`
  (administrators), `acceptRecommendations`, `batchRecordDecisions` (its reviewers).
- `instances/{id}/decisions` (GET, `$filter` on decision, recommendation, principal/id),
  `decisions/filterByCurrentUser(on='reviewer')`, `decisions/{id}` (GET, PATCH → 204: decision and
  justification only).

Administrators (Global, User) manage definitions and read everything; a reviewer reads and
decides the decisions of the instances they review; the person a self-review is about reads and
decides only their own. Thin: foyer.usecases.access_reviews checks and stores; the processes are
foyer.workflows.client.access_reviews, called once the rows are committed.
"""

from typing import Any

from fastapi import Body, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.api.deps import AdminCaller, Caller, CallerDep, OrganizationDep, SessionDep, TemporalDep, person
from foyer.api.errors import GraphError
from foyer.api.graph import GraphRouter, listed
from foyer.api.odata import Page, list_page, select_fields
from foyer.api.schemas import access_reviews as shapes
from foyer.models.access_reviews import AccessReviewDecision, AccessReviewInstance
from foyer.models.directory import Organization, User
from foyer.usecases import access_reviews as reviews
from foyer.workflows.client import access_reviews as processes

ROOT = "/v1.0/identityGovernance/accessReviews/definitions"
CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#identityGovernance/accessReviews/definitions"
MINE = "filterByCurrentUser(on='reviewer')"
DEFINITION = f"{ROOT}/{{definition_id}}"
INSTANCE = f"{DEFINITION}/instances/{{instance_id}}"
DECISION_FIELDS = {"decision": "decision", "recommendation": "recommendation", "principal/id": "principal_id",
                   "applyResult": "apply_result", "reviewedDateTime": "reviewed_date_time"}

router = GraphRouter(tags=["access reviews"])


async def _reviewer(session: AsyncSession, org: Organization, caller: Caller) -> User:
    user = await session.get(User, person(caller))
    if user is None or user.organization_id != org.id:
        raise GraphError(403, "Authorization_RequestDenied", "this token's user is not in this organization")
    return user


# --- definitions ----------------------------------------------------------------------------------------

async def list_definitions(request: Request, caller: AdminCaller, session: SessionDep, org: OrganizationDep) -> dict:
    rows = await reviews.list_definitions(session, org.id)
    return {"@odata.context": CONTEXT,
            "value": [select_fields(request.query_params, reviews.definition_body(r)) for r in rows]}


async def my_definitions(request: Request, caller: CallerDep, session: SessionDep, org: OrganizationDep) -> dict:
    rows = await reviews.definitions_for_reviewer(session, org.id, person(caller))
    return {"@odata.context": CONTEXT,
            "value": [select_fields(request.query_params, reviews.definition_body(r)) for r in rows]}


async def create_definition(caller: AdminCaller, session: SessionDep, org: OrganizationDep, client: TemporalDep,
                            body: Any = Body(...)) -> dict:
    creator = await session.get(User, caller.user_id) if caller.user_id else None
    created_by = {"id": caller.user_id or caller.token_id, "displayName": caller.name,
                  "userPrincipalName": creator.user_principal_name if creator else None}
    row = await reviews.create_definition(session, org.id, caller.actor, created_by, body)
    answer = {"@odata.context": f"{CONTEXT}/$entity", **reviews.definition_body(row)}
    await processes.schedule_definition(client, row)
    return answer


async def get_definition(definition_id: str, request: Request, caller: AdminCaller, session: SessionDep,
                         org: OrganizationDep) -> dict:
    row = await reviews.get_definition(session, org.id, definition_id)
    return select_fields(request.query_params,
                         {"@odata.context": f"{CONTEXT}/$entity", **reviews.definition_body(row)})


async def replace_definition(definition_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                             body: Any = Body(...)) -> Response:
    await reviews.update_definition(session, org.id, caller.actor, definition_id, body, replace=True)
    return Response(status_code=204)


async def update_definition(definition_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                            body: Any = Body(...)) -> Response:
    await reviews.update_definition(session, org.id, caller.actor, definition_id, body, replace=False)
    return Response(status_code=204)


async def delete_definition(definition_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                            client: TemporalDep) -> Response:
    still_open = await reviews.delete_definition(session, org.id, caller.actor, definition_id)
    await processes.stop_definition(client, definition_id, still_open)
    return Response(status_code=204)


async def stop_definition(definition_id: str, caller: AdminCaller, session: SessionDep, org: OrganizationDep,
                          client: TemporalDep) -> Response:
    still_open = await reviews.stop_definition(session, org.id, caller.actor, definition_id)
    await processes.stop_definition(client, definition_id, still_open)
    return Response(status_code=204)


router.add_api_route(ROOT, list_definitions, methods=["GET"],
                     response_model=shapes.AccessReviewScheduleDefinitionCollection)
router.add_api_route(ROOT, create_definition, methods=["POST"], status_code=201,
                     response_model=shapes.AccessReviewScheduleDefinition)
router.add_api_route(f"{ROOT}/{MINE}", my_definitions, methods=["GET"],
                     response_model=shapes.AccessReviewScheduleDefinitionCollection)
router.add_api_route(DEFINITION, get_definition, methods=["GET"], response_model=shapes.AccessReviewScheduleDefinition)
router.add_api_route(DEFINITION, replace_definition, methods=["PUT"], status_code=204)
router.add_api_route(DEFINITION, update_definition, methods=["PATCH"], status_code=204)
router.add_api_route(DEFINITION, delete_definition, methods=["DELETE"], status_code=204)
router.add_api_route(f"{DEFINITION}/stop", stop_definition, methods=["POST"], status_code=204)


# --- instances ------------------------------------------------------------------------------------------

async def _instance(session, org: Organization, caller: Caller, definition_id: str,
                    instance_id: str) -> AccessReviewInstance:
    definition = await reviews.get_definition(session, org.id, definition_id)
    instance = await reviews.get_instance(session, definition, instance_id)
    return await reviews.readable_instance(session, instance, caller.user_id, caller.is_admin)


async def list_instances(definition_id: str, request: Request, caller: CallerDep, session: SessionDep,
                         org: OrganizationDep) -> dict:
    definition = await reviews.get_definition(session, org.id, definition_id)
    if caller.is_admin:
        rows = await reviews.list_instances(session, definition)
    else:
        rows = await reviews.instances_for_reviewer(session, org.id, person(caller), definition_id=definition.id)
    return {"value": [select_fields(request.query_params, reviews.instance_body(r, definition)) for r in rows]}


async def my_instances(definition_id: str, request: Request, caller: CallerDep, session: SessionDep,
                       org: OrganizationDep) -> dict:
    definition = await reviews.get_definition(session, org.id, definition_id)
    rows = await reviews.instances_for_reviewer(session, org.id, person(caller), definition_id=definition.id)
    return {"value": [select_fields(request.query_params, reviews.instance_body(r, definition)) for r in rows]}


async def get_instance(definition_id: str, instance_id: str, request: Request, caller: CallerDep,
                       session: SessionDep, org: OrganizationDep) -> dict:
    instance = await _instance(session, org, caller, definition_id, instance_id)
    definition = await reviews.get_definition(session, org.id, definition_id)
    return select_fields(request.query_params, reviews.instance_body(instance, definition))


async def _admin_instance(session, org, caller: Caller, definition_id: str, instance_id: str) -> AccessReviewInstance:
    definition = await reviews.get_definition(session, org.id, definition_id)
    return await reviews.get_instance(session, definition, instance_id)


async def stop_instance(definition_id: str, instance_id: str, caller: AdminCaller, session: SessionDep,
                        org: OrganizationDep, client: TemporalDep) -> Response:
    instance = await _admin_instance(session, org, caller, definition_id, instance_id)
    if instance.status not in ("NotStarted", "Initializing", "Starting", "InProgress"):
        raise GraphError(409, "accessReviewNotInProgress", f"this access review instance is {instance.status}: "
                         "there is nothing to stop")
    await reviews.audit_instance_action(session, instance, caller.actor, "Stop access review instance")
    await processes.stop_instance(client, instance.id)
    return Response(status_code=204)


async def apply_decisions(definition_id: str, instance_id: str, caller: AdminCaller, session: SessionDep,
                          org: OrganizationDep, client: TemporalDep) -> Response:
    instance = await _admin_instance(session, org, caller, definition_id, instance_id)
    if instance.status != "Completed":
        raise GraphError(409, "instanceNotCompleted", f"this access review instance is {instance.status}: "
                         "decisions are applied once it is Completed")
    await reviews.audit_instance_action(session, instance, caller.actor, "Apply access review decisions")
    await processes.apply_decisions(client, instance.id)
    return Response(status_code=204)


async def send_reminder(definition_id: str, instance_id: str, caller: AdminCaller, session: SessionDep,
                        org: OrganizationDep, client: TemporalDep) -> Response:
    instance = await _admin_instance(session, org, caller, definition_id, instance_id)
    if instance.status != reviews.IN_PROGRESS:
        raise GraphError(409, "accessReviewNotInProgress", f"this access review instance is {instance.status}: "
                         "reminders go only to the reviewers of one in progress")
    await reviews.audit_instance_action(session, instance, caller.actor, "Send access review reminder")
    await processes.send_reminder(client, instance.id)
    return Response(status_code=204)


async def reset_decisions(definition_id: str, instance_id: str, caller: AdminCaller, session: SessionDep,
                          org: OrganizationDep) -> Response:
    instance = await _admin_instance(session, org, caller, definition_id, instance_id)
    await reviews.reset_decisions(session, instance, caller.actor)
    return Response(status_code=204)


async def accept_recommendations(definition_id: str, instance_id: str, caller: CallerDep, session: SessionDep,
                                 org: OrganizationDep) -> Response:
    reviewer = await _reviewer(session, org, caller)
    definition = await reviews.get_definition(session, org.id, definition_id)
    instance = await reviews.get_instance(session, definition, instance_id)
    await reviews.accept_recommendations(session, instance, reviewer)
    return Response(status_code=204)


async def batch_record_decisions(definition_id: str, instance_id: str, caller: CallerDep, session: SessionDep,
                                 org: OrganizationDep, body: Any = Body(...)) -> Response:
    reviewer = await _reviewer(session, org, caller)
    definition = await reviews.get_definition(session, org.id, definition_id)
    instance = await reviews.get_instance(session, definition, instance_id)
    await reviews.batch_record_decisions(session, instance, reviewer, body)
    return Response(status_code=204)


router.add_api_route(f"{DEFINITION}/instances", list_instances, methods=["GET"],
                     response_model=shapes.AccessReviewInstanceCollection)
router.add_api_route(f"{DEFINITION}/instances/{MINE}", my_instances, methods=["GET"],
                     response_model=shapes.AccessReviewInstanceCollection)
router.add_api_route(INSTANCE, get_instance, methods=["GET"], response_model=shapes.AccessReviewInstance)
for action, handler in (("stop", stop_instance), ("applyDecisions", apply_decisions),
                        ("sendReminder", send_reminder), ("resetDecisions", reset_decisions),
                        ("acceptRecommendations", accept_recommendations),
                        ("batchRecordDecisions", batch_record_decisions)):
    router.add_api_route(f"{INSTANCE}/{action}", handler, methods=["POST"], status_code=204)


# --- decisions ------------------------------------------------------------------------------------------

async def _decision_page(request: Request, session, instance: AccessReviewInstance, clauses: list) -> dict:
    page: Page = await list_page(request, session, AccessReviewDecision, DECISION_FIELDS, where=clauses,
                                 default_order=("principal_display_name", "id"))
    names = await reviews.people_named(session, page.rows)
    return listed(request, page, [reviews.decision_body(r, instance, names) for r in page.rows])


async def list_decisions(definition_id: str, instance_id: str, request: Request, caller: CallerDep,
                         session: SessionDep, org: OrganizationDep) -> dict:
    instance = await _instance(session, org, caller, definition_id, instance_id)
    clauses = await reviews.decision_filters(session, instance, caller.user_id, caller.is_admin)
    return await _decision_page(request, session, instance, clauses)


async def my_decisions(definition_id: str, instance_id: str, request: Request, caller: CallerDep,
                       session: SessionDep, org: OrganizationDep) -> dict:
    """The decisions the caller may make: all of them for a reviewer, their own in a self-review."""
    me = person(caller)
    instance = await _instance(session, org, caller, definition_id, instance_id)
    clauses = await reviews.decision_filters(session, instance, me, False)
    return await _decision_page(request, session, instance, clauses)


async def get_decision(definition_id: str, instance_id: str, decision_id: str, request: Request, caller: CallerDep,
                       session: SessionDep, org: OrganizationDep) -> dict:
    instance = await _instance(session, org, caller, definition_id, instance_id)
    row = await reviews.get_decision(session, instance, decision_id, caller.user_id, caller.is_admin)
    names = await reviews.people_named(session, [row])
    return select_fields(request.query_params, reviews.decision_body(row, instance, names))


async def record_decision(definition_id: str, instance_id: str, decision_id: str, caller: CallerDep,
                          session: SessionDep, org: OrganizationDep, body: Any = Body(...)) -> Response:
    reviewer = await _reviewer(session, org, caller)
    if not isinstance(body, dict):
        raise GraphError(400, "invalidRequest", "the body must be a JSON object {decision, justification}")
    others = sorted(k for k in body if k not in ("decision", "justification") and "@odata." not in k)
    if others:
        raise GraphError(400, "invalidRequest", f"only decision and justification can be changed, not "
                         f"{', '.join(others)[:200]}")
    definition = await reviews.get_definition(session, org.id, definition_id)
    instance = await reviews.get_instance(session, definition, instance_id)
    await reviews.record_decision(session, instance, decision_id, reviewer, body.get("decision"),
                                  body.get("justification"))
    return Response(status_code=204)


router.add_api_route(f"{INSTANCE}/decisions", list_decisions, methods=["GET"],
                     response_model=shapes.AccessReviewInstanceDecisionItemCollection)
router.add_api_route(f"{INSTANCE}/decisions/{MINE}", my_decisions, methods=["GET"],
                     response_model=shapes.AccessReviewInstanceDecisionItemCollection)
router.add_api_route(f"{INSTANCE}/decisions/{{decision_id}}", get_decision, methods=["GET"],
                     response_model=shapes.AccessReviewInstanceDecisionItem)
router.add_api_route(f"{INSTANCE}/decisions/{{decision_id}}", record_decision, methods=["PATCH"], status_code=204)
