import json
import os
import subprocess
import sys
import textwrap

import pytest

from surveys.services.api_keys import api_key_create
from tests.factories import SurveyFactory

# Our Django app is also called `delighted`, so the official client cannot be imported in the
# test process; it runs in a child interpreter, exactly as a customer's integration would.
RUNNER = """
import json, sys, warnings
warnings.simplefilter("ignore")
import delighted
delighted.api_key = sys.argv[1]
delighted.api_base_url = sys.argv[2]
try:
{code}
except delighted.errors.DelightedError as error:
    result = {{"error": type(error).__name__, "status": error.response.status_code,
              "body": json.loads(error.response.body),
              "retry_after": error.response.headers.get("Retry-After")}}
print(json.dumps(result, default=str))
"""


@pytest.fixture
def survey(transactional_db):
    return SurveyFactory(name="Acme NPS", kind="nps")


@pytest.fixture
def raw_key(survey):
    return api_key_create(name="delighted", survey=survey)[1]


@pytest.fixture
def call(live_server, raw_key):
    """`call(code, key=...)` runs client code that sets `result` and returns `result` (JSON round-tripped)."""

    def run(code: str, key: str | None = None):
        source = RUNNER.format(code=textwrap.indent(textwrap.dedent(code).strip(), "    "))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        done = subprocess.run(
            [sys.executable, "-P", "-c", source, key or raw_key, live_server.url + "/v1/"],
            capture_output=True,
            text=True,
            cwd="/",
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    return run
