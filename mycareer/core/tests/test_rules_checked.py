"""Every registered permission is checked somewhere, so a rule cannot drift from its guard.

A rule registered but checked nowhere says "operators may merge" while the merge page
asks something else; the two drift apart unnoticed. A permission counts as checked when
its name appears, quoted, in application code outside the permissions modules (a view
decorator, `has_perm`, a service), or as `perms.<name>` in a template.
"""

import re
from pathlib import Path

import rules

import mycareer

ROOT = Path(mycareer.__file__).parent


def _sources():
    for path in ROOT.rglob("*"):
        if "tests" in path.parts or "migrations" in path.parts or path.name == "permissions.py":
            continue
        if path.suffix in (".py", ".html", ".txt"):
            yield path, path.read_text(encoding="utf-8")


def unchecked_rules() -> list[str]:
    texts = [(path.suffix, text) for path, text in _sources()]
    unchecked = []
    for name in sorted(rules.permissions.permissions):
        quoted = re.compile(rf"[\"']{re.escape(name)}[\"']")
        in_template = f"perms.{name}"
        if not any(
            quoted.search(text) if suffix == ".py" else in_template in text
            for suffix, text in texts
        ):
            unchecked.append(name)
    return unchecked


def test_every_registered_rule_is_checked_somewhere():
    assert unchecked_rules() == []
