"""A path parameter that is empty (``/admin/incidents//resolve``) or only spaces is refused with 404 and the reason,
before any store is asked (DynamoDB refuses an empty key with a ValidationException, which was a 500)."""
from __future__ import annotations

import json

import pytest

ADMIN = {"Authorization": "Bearer local-admin-token", "Content-Type": "application/json"}


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/admin/incidents//resolve"),
    ("POST", "/admin/incidents/%20"),
    ("GET", "/admin/tickets/%20%20"),
    ("GET", "/admin/backlog/%20"),
    ("DELETE", "/admin/customers/%20"),
    ("GET", "/agent/tickets/%20"),
    ("GET", "/s/%20"),
])
def test_an_empty_path_parameter_is_a_404_with_the_reason(client, method, path):
    answer = client.http.request(method, path, headers=ADMIN, body=json.dumps({}))
    assert answer.status_code == 404, (path, answer.status_code, answer.body)
    assert "is empty" in answer.json_body["error"]
