"""Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from assistant.live import Runtime
from assistant.schemas import Health, IndexInfo, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (says nothing about the index; see /readyz)."""
    return Health()


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(request: Request) -> JSONResponse:
    """200 once the index and encoder are loaded; 503 with the reason and the command that fixes it."""
    runtime: Runtime = request.app.state.runtime
    status = runtime.status()
    if status.state != "ready":
        body = Readiness(status=status.state, reason=status.reason, hint=status.hint)
        return JSONResponse(body.model_dump(mode="json"), status_code=503, headers={"Retry-After": "5"})
    live = runtime.live()
    assistant = live.assistant
    manifest = assistant.index.manifest
    stale = len(runtime.stale_files(live))
    refused = runtime.refused
    warnings = []
    if stale:
        warnings.append(
            f"{stale} label files changed since this index was built; run `assistant index build` "
            "to serve them (the service loads the new build by itself)"
        )
    if refused is not None:
        warnings.append(
            f"the newer index build {refused.pointer[0]} was not loaded: {refused.reason}; "
            f"still serving {manifest.build_id}"
        )
    body = Readiness(
        status="ready",
        index=IndexInfo(
            build_id=manifest.build_id,
            built_at=manifest.built_at,
            encoder=manifest.encoder,
            incidents=len(assistant.index.incidents),
            passages=manifest.passages,
        ),
        stale_files=stale,
        refused_build=refused.pointer[0] if refused else None,
        warning="; ".join(warnings) or None,
    )
    return JSONResponse(body.model_dump(mode="json"))


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus exposition format."""
    runtime: Runtime = request.app.state.runtime
    return Response(runtime.metrics.render(), media_type=runtime.metrics.content_type)
