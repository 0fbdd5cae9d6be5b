"""A fresh Python process on the project's settings, for what only a start can show."""

import os
import subprocess
import sys
from collections.abc import Iterable


def settings_process(
    tmp_path, code: str, *, unset: Iterable[str] = (), **env: str
) -> subprocess.CompletedProcess:
    """Run `code` after `django.setup()` in a new process with `env` set and the settings
    named in `unset` left out; its output and how it ended (it may fail)."""
    left_out = set(unset)
    environment = {key: value for key, value in os.environ.items() if key not in left_out}
    return subprocess.run(  # noqa: S603 (this interpreter, our settings)
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env={
            **environment,
            "DJANGO_SETTINGS_MODULE": "mycareer.settings",
            "MYCAREER_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
