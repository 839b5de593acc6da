"""Optional Bearer API keys (``ASSISTANT_API_KEYS``): a dependency on every router but health and metrics."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assistant.surfaces.web.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="One of ASSISTANT_API_KEYS, when keys are configured.")


def key_matches(given: str, keys: list[str]) -> bool:
    """Constant-time comparison against every configured key."""
    found = False
    for key in keys:
        found |= secrets.compare_digest(given.encode(), key.encode())
    return found


async def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    keys: list[str] = request.app.state.runtime.settings.api_keys
    if not keys:
        return
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(
            401,
            type="unauthorized",
            message="missing API key",
            hint="send `Authorization: Bearer <key>` with one of ASSISTANT_API_KEYS",
            headers=challenge,
        )
    if not key_matches(credentials.credentials, keys):
        raise ApiError(
            401,
            type="unauthorized",
            message="invalid API key",
            hint="use one of the keys in ASSISTANT_API_KEYS",
            headers=challenge,
        )


Authorized = Depends(require_api_key)
