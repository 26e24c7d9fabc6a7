"""`foyer api --workers 2`: a scrape of /metrics, whichever worker process answers it, counts the
requests of both (prometheus_client's multiprocess mode in a directory of the run's own, removed
when the API exits)."""

import pytest
import asyncio
import glob
import subprocess

import httpx

from foyer.settings import PROJECT_ROOT
from tests.ports import free_port
from tests.test_entry_points import FOYER, answer, environment, stop
from tests.test_metrics import samples

pytestmark = pytest.mark.long_running(26)

REQUESTS = 40


async def test_every_scrape_counts_the_requests_of_every_worker_process(temporal, organization_id, tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [FOYER, "api", "--port", str(port), "--workers", "2", "--log-level", "info"],
        cwd=PROJECT_ROOT, env=environment(temporal, TMPDIR=str(tmp_path)), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        await answer(f"{base}/healthz", 60, process)
        # Both processes up before counting (each logs its start), so both take connections.
        await asyncio.sleep(1)
        created = glob.glob(f"{tmp_path}/foyer-api-metrics-*")
        assert len(created) == 1, created

        # A new connection per request, so the kernel hands them to either process.
        async def unauthenticated_read() -> int:
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                return (await client.get("/v1.0/organization")).status_code

        statuses = await asyncio.gather(*[unauthenticated_read() for _ in range(REQUESTS)])
        assert statuses == [401] * REQUESTS

        key = ("http_requests_total", frozenset({("handler", "/v1.0/organization"), ("method", "GET"),
                                                 ("status", "4xx")}))
        seen = []
        for _ in range(8):
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                response = await client.get("/metrics")
            assert response.status_code == 200, response.text
            figures = samples(response.text)
            seen.append(figures.get(key))
            # The directory's gauges are read once per scrape, not once per process.
            assert response.text.count("# TYPE foyer_directory_read_ok gauge") == 1
        assert seen == [REQUESTS] * 8, seen
        # Each worker process wrote its own samples.
        assert len(glob.glob(f"{created[0]}/counter_*.db")) == 2
    finally:
        code = stop(process)
    output = process.stdout.read()
    assert code == 0, output
    assert output.count("Started server process") == 2, output
    assert not list(tmp_path.iterdir())  # removed on exit
