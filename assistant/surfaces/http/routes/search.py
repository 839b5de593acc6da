"""Similar-incident search and incident detail."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from assistant.live import Runtime
from assistant.schemas import IncidentDetail, SimilarRequest
from assistant.search.results import SimilarResult
from assistant.surfaces.web.auth import Authorized
from assistant.surfaces.web.errors import ERRORS, SEARCHES, ErrorBody

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[Authorized])


@router.post("/similar", response_model=SimilarResult, responses=SEARCHES)
async def similar(body: SimilarRequest, request: Request) -> Response:
    """Most similar past incidents and the seen-before verdict (same JSON as `assistant similar --json`)."""
    runtime: Runtime = request.app.state.runtime
    result = await runtime.search(lambda assistant: assistant.similar(body.query, body.k, query_id=body.id))
    # Serialized here: returned as a model, FastAPI would validate it again in one more worker thread.
    return Response(result.model_dump_json(), media_type="application/json")


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentDetail,
    responses={**ERRORS, 404: {"model": ErrorBody, "description": "No such incident in the index."}},
)
def incident(incident_id: str, request: Request) -> IncidentDetail:
    """One incident: the label as written and the passages it was indexed as."""
    runtime: Runtime = request.app.state.runtime
    live = runtime.live()  # one build for the whole request, even if a new one is swapped in
    record = live.assistant.incident(incident_id)
    return IncidentDetail.of(record, live.passages_of(record.id))
