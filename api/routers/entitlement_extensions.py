"""Custom extensions: `catalogs/{id}/customWorkflowExtensions` (admins and catalog owners) and
`assignmentRequests/{id}/resume`, the callback an external system uses to let a waiting request
go on or deny it. The callback carries no bearer token: it is authenticated by an HMAC signature
over its body with a timestamp (`X-Foyer-Signature: t=…,v1=…`, the extension's secret), and
the same answer twice is accepted once."""

import json
import time
from typing import Any

from fastapi import Request, Response
from pydantic import AnyHttpUrl, Field, field_validator
from sqlmodel import select

import foyer.api.schemas.entitlement_responses as shapes
from foyer.api.deps import MemberCaller, OrganizationDep, SessionDep, TemporalDep
from foyer.api.errors import GraphError, bad_request, not_found
from foyer.api.graph import ENTITLEMENT_PREFIX, GraphRouter
from foyer.api.schemas import GraphModel, iso
from foyer import outbound
from foyer.durations import check_duration
from foyer.names import DisplayName, MultilineText
from foyer.security import SIGNATURE_HEADER, extension_secret, extension_secrets, signature_valid
from foyer.usecases.authz import require_manage
from foyer.usecases.catalogs import get_catalog, record
from foyer.usecases.extensions import find_call
from foyer.usecases.updates import commit
from foyer.models.entitlement import AssignmentRequest, CustomExtension
from foyer.workflows.client import access_requests
from foyer.workflows.messages.access import ResumeRequest

router = GraphRouter(prefix=ENTITLEMENT_PREFIX, tags=["entitlement management"])


class EndpointConfiguration(GraphModel):
    target_url: AnyHttpUrl


class CallbackConfiguration(GraphModel):
    timeout_duration: str

    @field_validator("timeout_duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        check_duration(value, "timeoutDuration", at_least="PT1M", at_most="P14D")
        return value


class ExtensionCreate(GraphModel):
    display_name: DisplayName = Field(min_length=1, max_length=256)
    description: MultilineText | None = Field(default=None, max_length=1024)
    endpoint_configuration: EndpointConfiguration
    callback_configuration: CallbackConfiguration | None = None


def extension_body(row: CustomExtension, *, with_secret: bool = False) -> dict:
    body: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.accessPackageAssignmentRequestWorkflowExtension",
        "id": row.id, "displayName": row.display_name, "description": row.description,
        "endpointConfiguration": {"@odata.type": "#microsoft.graph.httpRequestEndpoint",
                                  "targetUrl": row.target_url},
        "callbackConfiguration": {"@odata.type": "#microsoft.graph.customExtensionCallbackConfiguration",
                                  "timeoutDuration": row.callback_timeout} if row.callback_timeout else None,
        "createdDateTime": iso(row.created_date_time),
    }
    if with_secret:
        # Shown once: the receiver verifies Foyer's calls with it and signs its resume callbacks.
        body["foyerSigningSecret"] = extension_secret(row.id)
    return body


@router.post("/catalogs/{catalog_id}/customWorkflowExtensions", status_code=201,
             response_model=shapes.AccessPackageAssignmentRequestWorkflowExtension)
async def create_extension(catalog_id: str, body: ExtensionCreate, caller: MemberCaller,
                           session: SessionDep, org: OrganizationDep) -> dict:
    catalog = await get_catalog(session, org.id, catalog_id)
    require_manage(caller, catalog)
    target_url = str(body.endpoint_configuration.target_url)
    try:
        # Where it points (resolved now) must be a public address; checked again at every call.
        await outbound.check_url(target_url)
    except ValueError as error:
        raise bad_request(str(error)) from None
    row = CustomExtension(catalog_id=catalog.id, display_name=body.display_name, description=body.description,
                          target_url=target_url,
                          callback_timeout=body.callback_configuration.timeout_duration
                          if body.callback_configuration else None)
    session.add(row)
    await record(session, org.id, caller.actor, "Create custom extension", "CustomExtension", row.id,
                 row.display_name, targetUrl=row.target_url)
    await commit(session, "the custom extension could not be saved")
    return extension_body(row, with_secret=True)


@router.get("/catalogs/{catalog_id}/customWorkflowExtensions", response_model=shapes.ExtensionCollection)
async def list_extensions(catalog_id: str, caller: MemberCaller, session: SessionDep,
                          org: OrganizationDep) -> dict:
    catalog = await get_catalog(session, org.id, catalog_id)
    require_manage(caller, catalog)
    rows = (await session.exec(select(CustomExtension).where(
        CustomExtension.catalog_id == catalog.id).order_by(CustomExtension.created_date_time))).all()
    return {"value": [extension_body(r) for r in rows]}


async def _extension(session, org, catalog_id: str, extension_id: str, caller) -> CustomExtension:
    catalog = await get_catalog(session, org.id, catalog_id)
    require_manage(caller, catalog)
    row = await session.get(CustomExtension, extension_id)
    if row is None or row.catalog_id != catalog.id:
        raise not_found(f"custom extension {extension_id}")
    return row


@router.get("/catalogs/{catalog_id}/customWorkflowExtensions/{extension_id}",
             response_model=shapes.AccessPackageAssignmentRequestWorkflowExtension)
async def get_extension(catalog_id: str, extension_id: str, caller: MemberCaller, session: SessionDep,
                        org: OrganizationDep) -> dict:
    return extension_body(await _extension(session, org, catalog_id, extension_id, caller))


@router.delete("/catalogs/{catalog_id}/customWorkflowExtensions/{extension_id}", status_code=204)
async def delete_extension(catalog_id: str, extension_id: str, caller: MemberCaller, session: SessionDep,
                           org: OrganizationDep) -> Response:
    row = await _extension(session, org, catalog_id, extension_id, caller)
    await session.delete(row)
    await record(session, org.id, caller.actor, "Delete custom extension", "CustomExtension", row.id, row.display_name)
    await commit(session, "the custom extension is still in use")
    return Response(status_code=204)


RESUME_STATES = {"continue": "continue", "approve": "continue", "approved": "continue",
                 "deny": "deny", "denied": "deny"}


@router.post("/assignmentRequests/{request_id}/resume", status_code=204)
async def resume_request(request_id: str, request: Request, session: SessionDep,
                         client: TemporalDep) -> Response:
    raw = await request.body()
    try:
        payload = json.loads(raw)
        data = payload["data"]
        instance_id = str(data["customExtensionStageInstanceId"])
        state = RESUME_STATES[str(data.get("state", "continue")).lower()]
    except (ValueError, KeyError, TypeError):
        raise bad_request("the body must be JSON with data.customExtensionStageInstanceId and "
                          "data.state (continue, approve or deny)") from None
    row = await session.get(AssignmentRequest, request_id)
    found = await find_call(session, request_id, instance_id) if row else None
    # Unknown request, unknown instance and a bad signature answer alike: nothing to probe.
    if found is None or not signature_valid(extension_secrets(found[1].id),
                                            request.headers.get(SIGNATURE_HEADER), raw, time.time()):
        raise GraphError(401, "InvalidAuthenticationToken",
                         "the callback's signature is missing, wrong or too old")
    workflow_id = row.workflow_id
    await session.close()
    await access_requests.resume(client, workflow_id, ResumeRequest(instance_id=instance_id, state=state))
    return Response(status_code=204)
