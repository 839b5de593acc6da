"""incident-assistant: find similar past incidents and draft a diagnosis that cites them."""

from .core import Assistant
from .models import Match, SeenBefore, SimilarResult
from .settings import Settings

__all__ = ["Assistant", "Match", "SeenBefore", "Settings", "SimilarResult"]
