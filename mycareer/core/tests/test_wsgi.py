"""The web server's process, as gunicorn starts it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

REPORT = """
import gc
import mycareer.wsgi
frozen = gc.get_freeze_count()
unfrozen = len(gc.get_objects())
print(frozen, unfrozen)
"""


def test_what_the_server_starts_with_is_kept_out_of_the_garbage_collectors_passes(tmp_path):
    """Loading the application freezes what it made (Django, the apps, their modules), so
    a full collection during a request walks only what requests made: those passes had
    walked it all, up to 120 ms each (docs/decisions.md)."""
    env = {**os.environ, "MYCAREER_VAR_DIR": str(tmp_path / "var")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", REPORT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    frozen, unfrozen = map(int, result.stdout.split())
    assert frozen > 50_000
    assert unfrozen < frozen / 10
