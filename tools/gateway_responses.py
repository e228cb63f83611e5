"""Unknown routes answer a JSON 404, deployed as on the local stack.

API Gateway answers a path or method the API does not have with its own 403 ``{"message": "Missing Authentication
Token"}``. Chalice has no setting for gateway responses, so after ``chalice deploy`` the deploy step calls
``apply(client, rest_api_id, stage)``: it puts the ``MISSING_AUTHENTICATION_TOKEN`` gateway response (404, the body
below) and creates a deployment of the stage so that it takes effect. Running it again changes nothing but adds a
deployment. The local stack answers the same body (``tools.local_stack``, ``not_found_body``).

    {"error": "not_found", "message": "No such endpoint: GET /api/foo"}

Deployed, the path is API Gateway's ``$context.path``: the request path as called, with the stage
(``/api/foo`` on the execute-api address). A gateway response template is substituted, not evaluated, so the
method and path appear as API Gateway received them.
"""
from __future__ import annotations

import json
from typing import Any

RESPONSE_TYPE = "MISSING_AUTHENTICATION_TOKEN"
STATUS = 404
ERROR = "not_found"
TEMPLATE = json.dumps({"error": ERROR, "message": "No such endpoint: $context.httpMethod $context.path"})
HEADERS = {  # static values are single-quoted in gateway response parameters
    "gatewayresponse.header.Content-Type": "'application/json'",
    "gatewayresponse.header.Cache-Control": "'no-store'",
    "gatewayresponse.header.X-Content-Type-Options": "'nosniff'",
}


def not_found_body(method: str, path: str) -> dict[str, str]:
    """The body an unknown route answers with (the local stack's copy of ``TEMPLATE``)."""
    return {"error": ERROR, "message": f"No such endpoint: {method} {path}"}


def apply(apigateway_client: Any, rest_api_id: str, stage: str) -> dict[str, Any]:
    """Put the unknown-route gateway response on the REST API and deploy ``stage`` (Chalice's
    ``api_gateway_stage``, ``api``) so that it takes effect. ``apigateway_client`` is a boto3 ``apigateway``
    client of the API's account and region. Returns the new deployment (``{"id": ..., ...}``)."""
    apigateway_client.put_gateway_response(
        restApiId=rest_api_id, responseType=RESPONSE_TYPE, statusCode=str(STATUS),
        responseParameters=dict(HEADERS), responseTemplates={"application/json": TEMPLATE})
    deployment: dict[str, Any] = apigateway_client.create_deployment(
        restApiId=rest_api_id, stageName=stage, description="unknown routes: JSON 404 (tools/gateway_responses.py)")
    return deployment
