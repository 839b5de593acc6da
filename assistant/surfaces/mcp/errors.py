"""Domain errors as MCP answers, each saying what to do next in MCP's own terms.

A tool failure is a tool result the model reads (``ToolError``); a resource or prompt failure is a
JSON-RPC error: ``-32602`` (invalid params) for an unusable argument or an unknown incident, ``-32603``
for the rest (no index yet, a broken template), with the reason and the fix in the message.
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from assistant.errors import AssistantError, NotFound, QueryError

NOT_FOUND_HINT = (
    "list the incidents with resources/list (incident://<id>), or find ids with find_similar_incidents"
)


def explain(exc: AssistantError) -> str:
    """The message, then what to do in brackets. An unknown id gets the MCP way to find one instead of
    the core's CLI hint (``assistant similar``), which an agent cannot run."""
    hint = NOT_FOUND_HINT if isinstance(exc, NotFound) else exc.hint
    text = Exception.__str__(exc)
    return f"{text} ({hint})" if hint else text


def tool_error(exc: AssistantError) -> ToolError:
    return ToolError(explain(exc))


def resource_error(exc: AssistantError) -> ResourceError:
    """``ResourceNotFoundError`` (-32602) for an unknown incident, ``ResourceError`` (-32603) otherwise."""
    return ResourceNotFoundError(explain(exc)) if isinstance(exc, NotFound) else ResourceError(explain(exc))


def protocol_error(exc: AssistantError) -> MCPError:
    """For prompts and listings, whose failures the SDK would otherwise reduce to a generic message."""
    code = INVALID_PARAMS if isinstance(exc, QueryError | NotFound) else INTERNAL_ERROR
    return MCPError(code=code, message=explain(exc))
