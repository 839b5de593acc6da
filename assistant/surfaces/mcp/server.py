"""The assistant as an MCP server (official ``mcp`` SDK), for HolmesGPT, desktop assistants and other agents.

Tools, all read-only, idempotent and closed-world, each with an output schema and structured output in
the same JSON as the REST API:

- ``find_similar_incidents(query, k)`` → ``SimilarResult`` (``POST /v1/similar``)
- ``get_incident(id)`` → ``IncidentDetail`` (``GET /v1/incidents/{id}``)
- ``diagnose(query, k)`` → ``Diagnosis`` (``POST /v1/diagnose``)
- ``recurring_problems(days, min_count)`` → ``History`` (``GET /v1/history``)

Resources: every past incident as ``incident://{id}`` (``resources.py``), listed in pages; reading one
gives the ``get_incident`` JSON. Prompts: ``triage`` and ``postmortem-draft`` (``prompts.py``).

Served over stdio by ``assistant mcp`` and over streamable HTTP at ``/mcp`` on the service
(``endpoint.py``), behind the same API keys. Domain errors say what to do next (``errors.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server import MCPServer
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver.prompts.base import Message
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ListResourcesResult, PaginatedRequestParams, ToolAnnotations
from pydantic import Field

from assistant.diagnosis.results import Diagnosis
from assistant.errors import AssistantError
from assistant.schemas import DaysArg, IncidentDetail, KArg, MinCountArg, QueryArg
from assistant.search.results import History, SimilarResult
from assistant.service import Assistant
from assistant.surfaces.mcp.errors import protocol_error, resource_error, tool_error
from assistant.surfaces.mcp.prompts import postmortem_draft_messages, triage_messages
from assistant.surfaces.mcp.resources import (
    MIME_TYPE,
    PAGE_SIZE,
    URI_TEMPLATE,
    check_page_size,
    incident_detail,
    list_page,
)

NAME = "incident-assistant"
INSTRUCTIONS = (
    "Searches the team's own history of past incidents. Give it the symptoms in plain words (metrics, "
    "alerts, what changed): find_similar_incidents says whether this was seen before and which incidents "
    "are closest; diagnose adds likely causes, checks and next steps that cite those incidents; "
    "get_incident returns one incident's full write-up (root cause, evidence, resolution); "
    "recurring_problems lists the kinds of problem that keep happening, with what fixed each. Every past "
    "incident is also a resource, incident://<id>. Prompts: triage (an alert → a structured triage "
    "grounded in similar incidents) and postmortem-draft (a resolved incident's write-up → a draft label)."
)

F = TypeVar("F", bound=Callable[..., Any])
Query = QueryArg
K = KArg
Days = DaysArg
MinCount = MinCountArg

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def read_only_tool(server: MCPServer, title: str) -> Callable[[F], F]:
    """``server.tool`` for a tool that only reads the loaded index (diagnose also asks the configured
    model): read-only, idempotent, closed-world, with its title in the annotations too."""
    hints = ToolAnnotations(
        title=title, readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
    )
    return server.tool(title=title, annotations=hints)


def create_mcp_server(assistant: Callable[[], Assistant], *, page_size: int = PAGE_SIZE) -> MCPServer:
    """The MCP server over ``assistant()``, called per request (the service loads the index later).
    ``page_size``: incidents per ``resources/list`` page."""
    check_page_size(page_size)
    # log_level: the SDK configures the root logger when none is set; keep it to warnings
    server: MCPServer = MCPServer(
        name=NAME, instructions=INSTRUCTIONS, version=_version(), log_level="WARNING"
    )
    _add_tools(server, assistant)
    _add_resources(server, assistant, page_size=page_size)
    _add_prompts(server, assistant)
    return server


def _add_tools(server: MCPServer, assistant: Callable[[], Assistant]) -> None:
    @read_only_tool(server, "Find similar past incidents")
    def find_similar_incidents(query: Query, k: K = 5) -> SimilarResult:
        """The past incidents most similar to the query, each with its score, and a seen-before verdict
        (yes / maybe / no, with a confidence) saying whether any of them is really the same problem."""
        try:
            return assistant().similar(query, k)
        except AssistantError as exc:
            raise tool_error(exc) from None

    @read_only_tool(server, "Get one past incident")
    def get_incident(
        id: Annotated[str, Field(description="Incident id, as returned by the other tools.")],
    ) -> IncidentDetail:
        """One past incident: its label as written (root cause, evidence, resolution, metrics) and the
        passages it was indexed as."""
        try:
            return incident_detail(assistant(), id)
        except AssistantError as exc:
            raise tool_error(exc) from None

    @read_only_tool(server, "Recurring problems")
    def recurring_problems(days: Days = 90, min_count: MinCount = 2) -> History:
        """The kinds of problem that happened at least min_count times in the last `days` days, most
        frequent first: how many, when, and for each incident what fixed it and whether that held."""
        try:
            return assistant().history(days=days, min_count=min_count)
        except AssistantError as exc:
            raise tool_error(exc) from None

    @read_only_tool(server, "Diagnose from past incidents")
    def diagnose(query: Query, k: K = 5) -> Diagnosis:
        """A diagnosis grounded in the most similar past incidents: likely causes with confidences,
        evidence to check, next steps and what resolved those incidents, each citing incident ids."""
        try:
            return assistant().diagnose(query, k=k)
        except AssistantError as exc:
            raise tool_error(exc) from None


def _add_resources(server: MCPServer, assistant: Callable[[], Assistant], *, page_size: int) -> None:
    @server.resource(
        URI_TEMPLATE,
        name="incident",
        title="Past incident",
        description="One past incident as JSON: its label as written, title, kind, severity, start, "
        "duration, root cause, fixes and the passages it was indexed as (as get_incident returns it).",
        mime_type=MIME_TYPE,
    )
    def incident(id: str) -> str:
        try:
            return incident_detail(assistant(), id).model_dump_json()
        except AssistantError as exc:
            raise resource_error(exc) from None

    async def list_incidents(
        ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams
    ) -> ListResourcesResult:
        def page() -> ListResourcesResult:
            try:
                return list_page(assistant(), params.cursor, page_size=page_size)
            except AssistantError as exc:
                raise protocol_error(exc) from None

        return await anyio.to_thread.run_sync(page)  # the stdio server loads the index on first use

    # MCPServer lists only resources registered one by one, in a single page. The incidents change
    # with every index build, so resources/list is answered from the loaded index instead, in pages.
    server._lowlevel_server.add_request_handler("resources/list", PaginatedRequestParams, list_incidents)


def _add_prompts(server: MCPServer, assistant: Callable[[], Assistant]) -> None:
    @server.prompt(
        name="triage",
        title="Triage an alert from past incidents",
        description="Messages asking for a structured triage of an alert (likely causes, evidence to "
        "check, next steps), grounded in the similar past incidents found for it, which it embeds "
        "with their ids so that the answer can cite them.",
    )
    def triage(
        alert: Annotated[
            str, Field(description="The alert as pasted, or the symptoms in plain words (metrics, errors).")
        ],
    ) -> list[Message]:
        try:
            return triage_messages(assistant(), alert)
        except AssistantError as exc:
            raise protocol_error(exc) from None

    @server.prompt(
        name="postmortem-draft",
        title="Draft an incident label from a write-up",
        description="Messages asking for a draft label of a resolved incident in the team's label "
        "format (labels/README.md), marked for review, with the similar past incidents linked.",
    )
    def postmortem_draft(
        text: Annotated[
            str,
            Field(
                description="The resolved incident's summary, post-mortem or issue thread, as text "
                "(within the same limits as a query)."
            ),
        ],
    ) -> list[Message]:
        try:
            return postmortem_draft_messages(assistant(), text)
        except AssistantError as exc:
            raise protocol_error(exc) from None


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
    """The streamable HTTP endpoint at ``path``, stateless: no session is kept between requests (no
    ``Mcp-Session-Id``), so that any replica can answer any request. Its session manager must run in
    the host's lifespan (``server.session_manager.run()``)."""
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=path,
        stateless_http=True,
        transport_security=transport_security(allowed_hosts),
    )
    return app
