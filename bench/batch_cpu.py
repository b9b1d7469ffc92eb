"""CPU of one `POST /api/events/batch/` of 1,000 new contacts, in this process, on production settings.

    .venv/bin/python bench/batch_cpu.py                 # 10 batches after 3 of warm-up
    BENCH_BATCHES=20 BENCH_PROFILE=1 .venv/bin/python bench/batch_cpu.py    # then cProfile over 5 more

What `bench/server.py` measures as gunicorn's CPU per batch, without gunicorn and without the
load of a concurrent run: the request goes through Django's handler and middleware (the test client)
to the view, and the figure is this process's CPU time (PostgreSQL's work is not in it; its wall
time is printed beside). Recreates the database `cl_batch_cpu` on BENCH_POSTGRES_URL (BENCH_DB_PREFIX
replaces `cl_batch_cpu`); the cache and broker are Redis at BENCH_REDIS_URL, as in bench/server.py.
No target: it tells where a batch's CPU goes.
"""

import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import server  # noqa: E402  (its settings of the application, as gunicorn runs it)

DATABASE = os.environ.get("BENCH_DB_PREFIX", "cl_batch_cpu")
BATCHES = int(os.environ.get("BENCH_BATCHES", "10"))
EVENTS = 1000


def main() -> None:
    server.recreate(DATABASE)
    env = {**server.app_env(server.free_port()), "DATABASE_URL": f"{server.SERVER}/{DATABASE}"}
    subprocess.run([str(ROOT / "bin" / "closeloop"), "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    os.environ.update(env)
    import django

    django.setup()
    import gc

    from django.test import Client

    from surveys.models import Survey, TriggerRule
    from surveys.services.api_keys import api_key_create

    survey = Survey.objects.create(name="Bench NPS", kind="nps", product_name="Bench")
    TriggerRule.objects.create(event_type="purchase", survey=survey, channel="email")
    _, key = api_key_create(name="bench")
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {key}")
    gc.freeze()  # as config/wsgi.py does at start-up
    sent = iter(range(1_000_000))

    def post() -> tuple[float, float]:
        batch = next(sent)
        events = [{"type": "purchase", "contact": {"email": f"b{batch}-{n}@bench.example"}} for n in range(EVENTS)]
        body = json.dumps({"events": events})
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.post("/api/events/batch/", body, content_type="application/json")
        assert response.status_code == 200, response.content[:500]
        return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000

    for _ in range(3):
        post()
    cpu, wall = zip(*(post() for _ in range(BATCHES)), strict=True)
    print(f"load average: {os.getloadavg()}  (2 shared cores)")
    print(
        f"{BATCHES} batches of {EVENTS} new contacts: CPU median {statistics.median(cpu):.1f} ms"
        f" (min {min(cpu):.1f}, max {max(cpu):.1f}), wall median {statistics.median(wall):.1f} ms"
    )
    if os.environ.get("BENCH_PROFILE"):
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(5):
            post()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(str(ROOT / "surveys"), 25)


if __name__ == "__main__":
    main()
