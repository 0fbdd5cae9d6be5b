"""The per-token rate limit holds across processes: two web processes share the count."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from mycareer.api import services

ROOT = Path(__file__).resolve().parents[3]

# One web process: Django's own request handling against the test database, calling
# the API `calls` times with the token and printing the status codes it got.
CHILD = """
import json, os, sys
import django
django.setup()
from django.db import connections
connections["default"].settings_dict["NAME"] = os.environ["API_TEST_DB"]
from django.test import Client
client = Client()
codes = [
    client.get("/api/v1/vacancies", HTTP_HOST="localhost",
               HTTP_AUTHORIZATION="Bearer " + os.environ["API_TEST_TOKEN"]).status_code
    for _ in range(int(sys.argv[1]))
]
print(json.dumps(codes))
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_share_one_tokens_allowance(persona, cast):
    owner = persona("operator")
    _token, secret = services.token_create(owner=owner, by=owner, name="Two", scopes=["read"])
    # Both processes must count within one minute's window.
    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mycareer.settings",
        "PYTHONPATH": str(ROOT),
        "API_TEST_DB": str(connection.settings_dict["NAME"]),
        "API_TEST_TOKEN": secret,
        "API_CALLS_PER_MINUTE": "5",
        "LOG_LEVEL": "WARNING",
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, "4"], env=env, stdout=subprocess.PIPE, cwd=ROOT
        )
        for _ in range(2)
    ]
    codes = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        codes += json.loads(out.decode().strip().splitlines()[-1])
    assert sorted(codes) == [200] * 5 + [429] * 3
