"""``GET /v1/history`` on the real app over a socket: the recurring kinds in a window, with each
incident's fix; bad windows are a 422 that names the parameter."""

from __future__ import annotations

import httpx

from tests.fakes.live_server import LiveServer


def test_history_over_http(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        found = http.get("/v1/history", params={"until": "2025-04-01T00:00:00Z", "days": 30, "min_count": 1})
        assert found.status_code == 200, found.text
        body = found.json()
        assert body["since"].startswith("2025-03-02") and body["until"].startswith("2025-04-01")
        occurrences = {o["id"]: o for f in body["families"] for o in f["occurrences"]}
        assert len(body["families"]) == 6 and "perf-2025031603" in occurrences
        assert occurrences["perf-2025031603"]["fix"].startswith("Increase etcd storage IOPS")
        assert http.get("/v1/history", params={"until": "2025-04-01T00:00:00Z"}).json()["families"] == []
        bad = http.get("/v1/history", params={"days": 0})
        assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("query.days")
