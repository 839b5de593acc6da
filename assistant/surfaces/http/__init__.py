"""The HTTP surface: REST API, OpenAI-compatible chat endpoint, chat page, health and metrics."""
