"""Campaigns' recipient searches become stored filters; their HTML bodies become Markdown.

An empty search used to mean every contact: it now means nobody, so a draft that had
none must have its recipients chosen before it can be sent. A filter the search does not
know is kept, so the search is refused (and reaches nobody) until it is chosen again.
"""

import html
import re
from urllib.parse import parse_qsl

from django.db import migrations

LISTS = {"sectors", "sizes"}
TAGS = {"tags_all", "tags_any", "tags_none"}


def _filters(query: str) -> dict:
    filters: dict = {}
    for name, value in parse_qsl(query):
        value = value.strip()
        if not value or name == "sort":
            continue
        if name in TAGS:
            filters[name] = [" ".join(t.split()) for t in value.split(",") if t.strip()]
        elif name in LISTS:
            filters.setdefault(name, []).append(int(value) if name == "sectors" else value)
        elif name == "include_archived":
            filters[name] = True
        elif name == "unit":
            filters[name] = int(value) if value.isdigit() else value
        else:
            filters[name] = value
    return filters


def _markdown(body: str) -> str:
    if "<" not in body:
        return body
    text = re.sub(r"<a [^>]*href=\"([^\"]+)\"[^>]*>(.*?)</a>", r"[\2](\1)", body, flags=re.S)
    text = re.sub(r"</?(strong|b)>", "**", text)
    text = re.sub(r"</?(em|i)>", "*", text)
    text = re.sub(r"<li[^>]*>", "- ", text)
    text = re.sub(r"<h[23][^>]*>", "## ", text)
    text = re.sub(r"<br\s*/?>", "\n", text)
    text = re.sub(r"</(p|h2|h3|ul|ol|blockquote)>", "\n\n", text)
    text = re.sub(r"</li>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def forwards(apps, schema_editor):
    Campaign = apps.get_model("mailing", "Campaign")
    for campaign in Campaign.objects.all().only("pk", "recipient_query", "body"):
        campaign.recipient_filters = _filters(campaign.recipient_query)
        campaign.body = _markdown(campaign.body)
        campaign.save(update_fields=["recipient_filters", "body"])


class Migration(migrations.Migration):
    dependencies = [("mailing", "0002_campaign_recipient_filters_and_outbox_claims")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
