"""HTTP plumbing every served surface shares (REST, ``/slack/events``, ``/mcp``): JSON error bodies, the
request body limit and API-key checks. It knows no route; the surfaces above it know each other not."""
