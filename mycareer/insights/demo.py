"""The demo story's opportunities: histories that make each insight appear."""

from mycareer.insights.services import opportunities_refresh


def seed_insights(cast: dict) -> None:
    opportunities_refresh()
