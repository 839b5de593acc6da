"""The assistant as an MCP server (official ``mcp`` SDK), for HolmesGPT, desktop assistants and other agents.

Tools, all read-only, with structured output in the same JSON as the REST API:

- ``find_similar_incidents(query, k)`` → ``SimilarResult`` (``POST /v1/similar``)
- ``get_incident(id)`` → ``IncidentDetail`` (``GET /v1/incidents/{id}``)
- ``diagnose(query, k)`` → ``Diagnosis`` (``POST /v1/diagnose``)

Served over stdio by ``assistant mcp`` and over streamable HTTP at ``/mcp`` on the service (``mount_http``),
behind the same API keys. Domain errors become tool errors whose text says what to do next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations
from pydantic import Field

from assistant.diagnosis.results import Diagnosis
from assistant.errors import AssistantError
from assistant.schemas import IncidentDetail, KArg, QueryArg
from assistant.search.results import SimilarResult
from assistant.service import Assistant

NAME = "incident-assistant"
INSTRUCTIONS = (
    "Searches the team's own history of past incidents. Give it the symptoms in plain words (metrics, "
    "alerts, what changed): find_similar_incidents says whether this was seen before and which incidents "
    "are closest; diagnose adds likely causes, checks and next steps that cite those incidents; "
    "get_incident returns one incident's full write-up (root cause, evidence, resolution)."
)
READ_ONLY = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
)

Query = QueryArg
K = KArg

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def tool_error(exc: AssistantError) -> ToolError:
    hint = f" ({exc.hint})" if exc.hint else ""
    return ToolError(f"{Exception.__str__(exc)}{hint}")


def incident_detail(assistant: Assistant, incident_id: str) -> IncidentDetail:
    record = assistant.incident(incident_id)
    passages = [p for p in assistant.index.passages if p.incident_id == record.id]
    return IncidentDetail.of(record, passages)


def create_mcp_server(assistant: Callable[[], Assistant]) -> MCPServer:
    """The MCP server over ``assistant()``, called per request (the service loads the index later)."""
    # log_level: the SDK configures the root logger when none is set; keep it to warnings
    server: MCPServer = MCPServer(
        name=NAME, instructions=INSTRUCTIONS, version=_version(), log_level="WARNING"
    )

    @server.tool(title="Find similar past incidents", annotations=READ_ONLY)
    def find_similar_incidents(query: Query, k: K = 5) -> SimilarResult:
        """The past incidents most similar to the query, each with its score, and a seen-before verdict
        (yes / maybe / no, with a confidence) saying whether any of them is really the same problem."""
        try:
            return assistant().similar(query, k)
        except AssistantError as exc:
            raise tool_error(exc) from None

    @server.tool(title="Get one past incident", annotations=READ_ONLY)
    def get_incident(
        id: Annotated[str, Field(description="Incident id, as returned by the other tools.")],
    ) -> IncidentDetail:
        """One past incident: its label as written (root cause, evidence, resolution, metrics) and the
        passages it was indexed as."""
        try:
            return incident_detail(assistant(), id)
        except AssistantError as exc:
            raise tool_error(exc) from None

    @server.tool(title="Diagnose from past incidents", annotations=READ_ONLY)
    def diagnose(query: Query, k: K = 5) -> Diagnosis:
        """A diagnosis grounded in the most similar past incidents: likely causes with confidences,
        evidence to check, next steps and what resolved those incidents, each citing incident ids."""
        try:
            return assistant().diagnose(query, k=k)
        except AssistantError as exc:
            raise tool_error(exc) from None

    return server


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("incident-assistant")
    except PackageNotFoundError:
        return "0"


def transport_security(allowed_hosts: list[str]) -> TransportSecuritySettings:
    """Host (and Origin) checks against DNS rebinding; ``*`` among the hosts turns them off."""
    if "*" in allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    origins = [f"{scheme}://{host}" for host in allowed_hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts, allowed_origins=origins
    )


def http_app(server: MCPServer, *, allowed_hosts: list[str], path: str = "/mcp") -> ASGIApp:
    """The streamable HTTP endpoint at ``path``, stateless so that any replica can answer any request.
    Its session manager must run in the host's lifespan (``server.session_manager.run()``)."""
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=path,
        stateless_http=True,
        transport_security=transport_security(allowed_hosts),
    )
    return app
