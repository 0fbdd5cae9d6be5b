"""Every static file a template names exists.

In production the manifest storage refuses a name it does not hold, so a template that
names a removed script is a server error on its page, not a missing script (the new
campaign page named one). Tests run without the manifest, so this reads the templates
themselves.
"""

import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

STATIC_TAG = re.compile(r"""\{%\s*static\s+(['"])(?P<path>[^'"]+)\1""")


def test_every_static_file_a_template_names_exists():
    root = Path(settings.BASE_DIR)
    named = {
        (template.relative_to(root), match["path"])
        for template in root.glob("mycareer/**/templates/**/*.html")
        for match in STATIC_TAG.finditer(template.read_text(encoding="utf-8"))
    }
    assert len(named) > 10  # the templates were found and read
    missing = sorted((str(t), path) for t, path in named if finders.find(path) is None)
    assert missing == []
