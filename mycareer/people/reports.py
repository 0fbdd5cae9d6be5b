"""An import's summary in words, for the command's output (the pages use templates)."""

from django.utils.translation import ngettext


def summary_lines(summary: dict, *, dry_run: bool) -> list[str]:
    """What a file did (or, in a dry run, would do), one line each, problems last."""
    lines = [
        ("Dry run: nothing was written. " if dry_run else "")
        + ngettext("%(n)d row read.", "%(n)d rows read.", summary["rows"]) % {"n": summary["rows"]},
        f"Created: {summary['created']}. Updated: {summary['updated']}. "
        f"Unchanged: {summary['unchanged']}. Left: {summary['left']}.",
    ]
    if summary["missing"]:
        lines.append(
            ngettext(
                "%(n)d person fed before is missing from this file: they become inactive "
                "if still missing after the grace period.",
                "%(n)d people fed before are missing from this file: they become inactive "
                "if still missing after the grace period.",
                summary["missing"],
            )
            % {"n": summary["missing"]}
        )
    if summary["withdrawn_not_added"]:
        lines.append(
            f"Withdrawn students not in MyCareer, so not added: {summary['withdrawn_not_added']}."
        )
    if summary.get("erased"):
        lines.append(
            ngettext(
                "%(n)d row is a person erased at their request: skipped, as always.",
                "%(n)d rows are people erased at their request: skipped, as always.",
                summary["erased"],
            )
            % {"n": summary["erased"]}
        )
    for erased in summary.get("erased_rows", []):
        lines.append(f"Row {erased['row']}: skipped: erased on {erased['erased_on']}.")
    for key, label in (("unknown_programmes", "programme"), ("unknown_units", "unit")):
        for code, rows in summary[key].items():
            rows_text = ngettext("%(n)d row", "%(n)d rows", rows) % {"n": rows}
            lines.append(
                f"Unknown {label} “{code}” ({rows_text}): add it in MyCareer, then import again."
            )
    if summary["skipped"]:
        rows = "Rows that would be skipped" if dry_run else "Rows skipped"
        lines.append(f"{rows} (not imported): {summary['skipped']}.")
    for problem in summary["problems"]:
        lines.append(f"Row {problem['row']} ({problem['who']}): {problem['message']}")
    return lines
