"""The SAML federation health process's contract: the SamlMetadataWorkflow's input (carried over
continue-as-new), its `refresh` signal, its activities' inputs and outputs, and its business-key
workflow id (one per federation)."""

from datetime import datetime

from pydantic import BaseModel

# Days before the last trusted certificate expires when the administrators are mailed.
WARNING_DAYS = (30, 7)


def saml_metadata_workflow_id(federation_id: str) -> str:
    return f"saml-metadata:{federation_id}"


class SamlMetadataInput(BaseModel):
    federation_id: str
    organization_id: str
    # The warnings already sent, "<certificate thumbprint>:<days>", so a run continued-as-new
    # (or a refresh that finds the same certificate) does not send them again.
    warned: list[str] = []


class RefreshInput(BaseModel):
    federation_id: str
    # The workflow's time: which certificate has expired is decided as of it (the activity's own
    # clock is not the workflow's, and not replayed).
    now: datetime


class CertificateState(BaseModel):
    thumbprint: str  # SHA-256, hex
    not_after: datetime


class RefreshResult(BaseModel):
    """What a refresh found: `exists` False once the federation is deleted (the workflow ends);
    the certificates trusted after it, the one signing now first."""
    exists: bool = True
    certificates: list[CertificateState] = []
    added: int = 0
    error: str | None = None


class ExpiryWarningInput(BaseModel):
    federation_id: str
    thumbprint: str
    not_after: datetime
    days: int
