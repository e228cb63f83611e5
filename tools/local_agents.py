"""The local stack's agents: a Cognito user pool on the embedded local AWS (moto's ``cognito-idp``), shaped like the
``AgentPool`` of ``infra/template.yaml`` (USER_PASSWORD_AUTH app client without a secret, one group per brand team,
the group ``leads``), with documented agents and passwords (README, "Agents' workflow"). Local only: these
passwords are public.

``python -m tools.local_agents`` prints them. ``create_pool`` is what ``tools.local_stack`` runs at start-up and what
tests run against moto.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LocalAgent:
    username: str
    password: str
    name: str
    groups: tuple[str, ...]


#: Two agents in one team, a lead, the on-call duty officer and a press officer.
LOCAL_AGENTS = (
    LocalAgent("amira", "Amira-local-1", "Amira Shah", ("customer_service",)),
    LocalAgent("ben", "Ben-local-1", "Ben Okafor", ("customer_service",)),
    LocalAgent("chloe", "Chloe-local-1", "Chloe Martin", ("team_leads", "leads")),
    LocalAgent("omar", "Omar-local-1", "Omar Haddad", ("oncall",)),
    LocalAgent("priya", "Priya-local-1", "Priya Nair", ("comms",)),
)
POOL_NAME = "responder-local-agents"
CLIENT_NAME = "responder-local-inbox"


def create_pool(client: Any, teams: list[str], agents: tuple[LocalAgent, ...] = LOCAL_AGENTS) -> dict[str, str]:
    """Create the pool, its app client, the groups and the agents; returns ``AGENT_POOL_ID`` and ``AGENT_CLIENT_ID``."""
    pool = client.create_user_pool(
        PoolName=POOL_NAME, AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireUppercase": True, "RequireLowercase": True,
                                     "RequireNumbers": True, "RequireSymbols": False}},
        Schema=[{"Name": "name", "AttributeDataType": "String", "Mutable": True}])["UserPool"]
    pool_id = pool["Id"]
    app_client = client.create_user_pool_client(
        UserPoolId=pool_id, ClientName=CLIENT_NAME, GenerateSecret=False, ReadAttributes=["name"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]
    for group in [*teams, "leads"]:
        client.create_group(UserPoolId=pool_id, GroupName=group)
    for agent in agents:
        client.admin_create_user(UserPoolId=pool_id, Username=agent.username, MessageAction="SUPPRESS",
                                 UserAttributes=[{"Name": "name", "Value": agent.name}])
        client.admin_set_user_password(UserPoolId=pool_id, Username=agent.username, Password=agent.password,
                                       Permanent=True)
        for group in agent.groups:
            client.admin_add_user_to_group(UserPoolId=pool_id, Username=agent.username, GroupName=group)
    return {"AGENT_POOL_ID": pool_id, "AGENT_CLIENT_ID": app_client["ClientId"]}


def describe() -> str:
    rows = [f"  {a.username:<7} {a.password:<15} {', '.join(a.groups)}" for a in LOCAL_AGENTS]
    return "Local agents (username, password, groups):\n" + "\n".join(rows)


if __name__ == "__main__":
    print(describe())
