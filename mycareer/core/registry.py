"""Small registries that let higher apps add to pages owned by lower ones.

Dependencies point downwards (core <- audit <- accounts <- ...). A lower app never
imports a higher one; a higher app registers its contribution in `AppConfig.ready()`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    visible: Callable[[Any], bool]
    order: int = 100


@dataclass(frozen=True)
class DashboardPanel:
    template: str
    context: Callable[[Any], dict | None]
    order: int = 100
    # How a person choosing the order of their home page knows it ("Your follow-ups").
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.template.rsplit("/", 1)[-1].removesuffix(".html").capitalize()


@dataclass(frozen=True)
class DailyJob:
    name: str
    task: Any
    hour: int = 6


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Any
    every_minutes: int = 1


_nav: dict[str, NavItem] = {}
_panels: dict[str, DashboardPanel] = {}
_daily: dict[str, DailyJob] = {}
_periodic: dict[str, PeriodicJob] = {}


def register_nav(item: NavItem) -> None:
    _nav[item.url_name] = item


def nav_items() -> list[NavItem]:
    return sorted(_nav.values(), key=lambda i: (i.order, i.label))


def register_panel(panel: DashboardPanel) -> None:
    """A panel on the home page; its context function returns None to hide it."""
    _panels[panel.template] = panel


def dashboard_panels(chosen_order: list[str] | None = None) -> list[DashboardPanel]:
    """The panels in their default order, or with those in `chosen_order` (templates) first."""
    panels = sorted(_panels.values(), key=lambda p: p.order)
    if not chosen_order:
        return panels
    position = {template: index for index, template in enumerate(chosen_order)}
    return sorted(panels, key=lambda p: position.get(p.template, len(position)))


def register_daily_job(job: DailyJob) -> None:
    """A task the scheduler enqueues once a day, at or after `hour` local time."""
    _daily[job.name] = job


def daily_jobs() -> list[DailyJob]:
    return list(_daily.values())


@dataclass(frozen=True)
class SeedStep:
    name: str
    run: Callable[[dict], None]
    order: int = 100


_seeds: dict[str, SeedStep] = {}


def register_seed(step: SeedStep) -> None:
    """A part of the demo story; steps run in order and share one `cast` dict."""
    _seeds[step.name] = step


def seed_steps() -> list[SeedStep]:
    return sorted(_seeds.values(), key=lambda s: s.order)


def register_periodic_job(job: PeriodicJob) -> None:
    """A task the scheduler enqueues every `every_minutes` minutes (watchdogs, retries)."""
    _periodic[job.name] = job


def periodic_jobs() -> list[PeriodicJob]:
    return list(_periodic.values())


def register_jobs(jobs) -> None:
    """An app's schedule (the JOBS of its jobs.py): daily and periodic jobs alike."""
    for job in jobs:
        if isinstance(job, DailyJob):
            register_daily_job(job)
        else:
            register_periodic_job(job)


@dataclass(frozen=True)
class MediaArea:
    """A folder of uploads and who may read its files; `may_read=None` means everyone.

    Files outside every registered area are never served.
    """

    prefix: str
    may_read: Callable[[Any], bool] | None = None


_media: dict[str, MediaArea] = {}


def register_media_area(area: MediaArea) -> None:
    _media[area.prefix] = area


def media_area_for(path: str) -> MediaArea | None:
    """The area a file of MEDIA_ROOT belongs to (the longest matching prefix)."""
    matching = [area for prefix, area in _media.items() if path.startswith(prefix)]
    return max(matching, key=lambda area: len(area.prefix), default=None)
