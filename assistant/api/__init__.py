"""The HTTP surface: REST API, OpenAI-compatible chat endpoint, chat page, health and metrics."""

from .app import create_app

__all__ = ["create_app"]
