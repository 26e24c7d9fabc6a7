"""Response shapes of identity/conditionalAccess: conditionalAccessPolicy, authenticationStrengthPolicy
and the evaluate action's whatIfAnalysisResult. The policy's blocks (conditions, grantControls,
sessionControls) are answered as stored, in Graph's full shape (foyer.rules.conditional_access)."""

from foyer.api.schemas import Collection, GraphResource


class AuthenticationStrengthPolicy(GraphResource):
    id: str | None = None
    display_name: str | None = None
    description: str | None = None
    policy_type: str | None = None
    requirements_satisfied: str | None = None
    allowed_combinations: list[str] | None = None
    created_date_time: str | None = None
    modified_date_time: str | None = None


class ConditionalAccessPolicy(GraphResource):
    id: str | None = None
    template_id: str | None = None
    display_name: str | None = None
    description: str | None = None
    created_date_time: str | None = None
    modified_date_time: str | None = None
    state: str | None = None
    conditions: dict | None = None
    grant_controls: dict | None = None
    session_controls: dict | None = None


class WhatIfAnalysisResult(ConditionalAccessPolicy):
    policy_applies: bool | None = None
    analysis_reasons: str | None = None


ConditionalAccessPolicyCollection = Collection[ConditionalAccessPolicy]
AuthenticationStrengthPolicyCollection = Collection[AuthenticationStrengthPolicy]
WhatIfAnalysisResultCollection = Collection[WhatIfAnalysisResult]
