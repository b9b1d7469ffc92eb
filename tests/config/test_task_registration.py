"""Every task the code sends, and every task of CELERY_BEAT_SCHEDULE, is registered in a worker started as
production starts it (`bin/closeloop worker`: a fresh process, `config.settings.production`, Celery's
worker start-up importing the task modules). A task a worker does not know is discarded as
"unregistered": the dashboard once stopped counting answers that way while CI stayed green.

The tasks the code sends are found by reading the source: every `<task>.delay(…)`,
`.apply_async(…)`, `.s(…)`, `.si(…)` and `send_task("…")` outside tests and benches, resolved
through the module's imports (function-local ones included) to the task object and its name.
"""

import ast
import json
import os
import secrets
import subprocess
import sys
from importlib import import_module
from pathlib import Path

from celery import Task
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {"tests", "bench", "node_modules", "site", "var", "docs", "static", "templates", "staticfiles"}
SEND_METHODS = {"delay", "apply_async", "s", "si", "signature"}
# Functions that send the task given as their first argument (config/hand_over.py): a call of one is a send.
SENDING_FUNCTIONS = {"hand_over_on_commit"}


def _project_modules() -> list[Path]:
    paths = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or parts[0] in SKIPPED or "migrations" in parts:
            continue
        paths.append(path)
    return paths


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def sent_task_names() -> dict[str, set[str]]:
    """{task name: {module sending it}} for every task the project's code sends."""
    sent: dict[str, set[str]] = {}
    unresolved = []
    for path in _project_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        module_name = _module_name(path)
        imported = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    imported[alias.asname or alias.name] = (node.module, alias.name)
        # A send on a parameter (`task.delay` inside a sending function) is checked where that function is called.
        parameters: dict[int, set[str]] = {}
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                names = {argument.arg for argument in ast.walk(function.args) if isinstance(argument, ast.arg)}
                for inner in ast.walk(function):
                    parameters.setdefault(id(inner), set()).update(names)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id in SENDING_FUNCTIONS:
                if not node.args or not isinstance(node.args[0], ast.Name):
                    unresolved.append(f"{module_name}: {node.func.id}(…) without a task as its first argument")
                    continue
                name = node.args[0].id
            elif not isinstance(node.func, ast.Attribute):
                continue
            elif node.func.attr == "send_task" and node.args and isinstance(node.args[0], ast.Constant):
                sent.setdefault(node.args[0].value, set()).add(module_name)
                continue
            elif node.func.attr not in SEND_METHODS or not isinstance(node.func.value, ast.Name):
                continue
            else:
                name = node.func.value.id
                if name in parameters.get(id(node), set()):
                    continue
            source_module, attribute = imported.get(name, (module_name, name))
            try:
                task = getattr(import_module(source_module), attribute)
            except (ImportError, AttributeError):
                unresolved.append(f"{module_name}: {name}")
                continue
            if isinstance(task, Task):
                sent.setdefault(task.name, set()).add(module_name)
    assert not unresolved, f"calls that look like task sends but resolve to no task: {unresolved}"
    return sent


def beat_task_names() -> set[str]:
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def production_worker_tasks() -> set[str]:
    """The tasks a worker knows after its start-up, in a fresh process with the production settings."""
    script = (
        "import json\n"
        "from config.celery_app import app\n"
        "app.loader.init_worker()  # what `celery worker` does before consuming: imports the task modules\n"
        "print(json.dumps(sorted(name for name in app.tasks if not name.startswith('celery.'))))\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": "postgres://closeloop@127.0.0.1:1/closeloop",  # never reached
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",  # never reached
        "SITE_URL": "https://closeloop.example",
        "DJANGO_ALLOWED_HOSTS": "closeloop.example",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_source_scan_finds_the_sends_it_must_know():
    sent = sent_task_names()

    # One send of each kind the code has: a signal receiver's function-local import, a service's on-commit send.
    assert "notifications.tasks.send_message" in sent
    assert "notifications.tasks.send_messages" in sent
    assert any(name.endswith(".announce_responses") for name in sent)
    assert any(name.endswith(".open_follow_up") for name in sent)
    # Handed over after commit through config.hand_over, by the services of three apps.
    assert sent["surveys.tasks.expand_event_batch"] == {"surveys.services.batches"}
    assert sent["integrations.tasks.deliver_webhook"] >= {"integrations.webhooks"}
    assert sent["integrations.tasks.write_zendesk_note"] >= {"integrations.zendesk"}


def test_every_sent_and_scheduled_task_is_registered_in_a_production_worker():
    registered = production_worker_tasks()

    missing_sent = {name: sorted(modules) for name, modules in sent_task_names().items() if name not in registered}
    missing_beat = sorted(beat_task_names() - registered)
    assert missing_sent == {}, "sent by the code but unknown to a production worker"
    assert missing_beat == [], "scheduled by beat but unknown to a production worker"
