"""The Slack bot: "seen this before?" in channels and threads.

``create_slack_app(settings, assistant=...)`` in ``app.py`` builds it; ``http.py`` serves it at
``/slack/events``; ``assistant slack --socket`` runs it in Socket Mode. Needs the ``slack`` extra;
importing this package does not (call ``require_slack()`` first for a clear message).
"""

from __future__ import annotations

from importlib.util import find_spec

from assistant.errors import BackendUnavailable


def require_slack() -> None:
    """Raise a one-line fix when slack-bolt is not installed."""
    if find_spec("slack_bolt") is None or find_spec("slack_sdk") is None:
        raise BackendUnavailable(
            "the Slack bot needs slack-bolt", hint="pip install 'incident-assistant[slack]'"
        )
