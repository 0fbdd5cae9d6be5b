"""What the API answers and accepts: typed, so the OpenAPI schema says it exactly."""

import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from mycareer.core.forms import DESCRIPTION_MAX_LENGTH, from_local_time
from mycareer.events.models import SENSIBLE_YEARS

Id = int


def _in_site_time_zone(value: datetime.datetime) -> datetime.datetime:
    """A time sent without an offset, read as the pages read one: in the site's time zone
    (TIME_ZONE). One that zone skips or repeats at a clock change is refused, and so is
    one with no UTC equivalent (near year 1 or 9999, with an offset), which the database
    filters it reached answered with a 500. Far years otherwise pass ("9999-12-31" as
    "no upper limit"): an event's own times are held to its years by the events service."""
    try:
        value = from_local_time(value)
    except ValidationError as error:
        raise PydanticCustomError("time_zone", " ".join(error.messages)) from None
    try:
        value.astimezone(datetime.UTC)
    except OverflowError:
        raise PydanticCustomError(
            "year",
            f"Check the year: {value.isoformat()} has no equivalent in UTC.",
        ) from None
    return value


# Every date and time the API takes: with an offset (`2027-03-01T10:00:00+00:00`), or
# without one (`2027-03-01T10:00`), in the site's time zone.
LocalDateTime = Annotated[
    datetime.datetime,
    AfterValidator(_in_site_time_zone),
    Field(
        description="ISO 8601. Without an offset, the time is read in MyCareer's time zone, "
        "as the pages read it. An event's own times are in the years "
        f"{SENSIBLE_YEARS[0]} to {SENSIBLE_YEARS[-1]}."
    ),
]
# Database ids: anything larger is no record, and is refused as invalid input.
RecordId = Field(ge=1, le=2**53)
# A list of them: each id bounded too, so no number beyond the database's reaches it.
RecordIds = list[Annotated[int, Field(ge=1, le=2**53)]]


class Page(Schema):
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Named(Schema):
    id: Id
    name: str


class KeyAccountOut(Schema):
    operator: str
    operator_email: str | None = Field(description="Null once the operator has left.")
    left: bool = Field(description="The operator has left: their login is closed.")
    unit: str


class OrganisationItem(Schema):
    id: Id
    name: str
    website: str
    sector: str | None
    size: str
    locations: list[str]
    status: str
    unit: str | None
    multi_touch: bool
    tags: list[str]
    key_accounts: list[KeyAccountOut]
    last_engaged_on: datetime.date | None


class OrganisationPage(Page):
    items: list[OrganisationItem]


class KeyOwner(Schema):
    name: str
    email: str | None = Field(description="Null once the owner has left.")
    left: bool = Field(description="The owner has left: their login is closed.")
    unit: str
    guidance: str


class ContactOut(Schema):
    id: Id
    organisation: Id
    display_name: str = Field(description="The name as pages show it: key contacts end in *.")
    full_name: str
    job_title: str
    email: str
    phone: str
    visible_to_students: bool | None = Field(description="Shown to staff only; null otherwise.")
    key_contact: bool
    owners: list[KeyOwner] = Field(description="Who to liaise with before contacting them.")


class OrganisationOut(OrganisationItem):
    description: str
    contacts: list[ContactOut]


class NoteOut(Schema):
    id: Id
    organisation: Id
    kind: str
    started_by: str
    date: datetime.date
    author: str | None
    unit: str | None
    contacts: list[str]
    text: str
    follow_up_on: datetime.date | None


class NotePage(Page):
    items: list[NoteOut]


class AudienceOut(Schema):
    open_to_all: bool
    units: list[str]
    programmes: list[str]
    years: list[int]
    open_to_employers: bool
    open_to_public: bool


class EventOut(Schema):
    id: Id
    uid: str
    title: str
    type: str
    status: str
    unit: Named
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    venue: str
    online_url: str = Field(
        description="Blank once the event is cancelled, but to those who may change it."
    )
    description: str
    organisations: list[Named]
    audience: AudienceOut


class EventPage(Page):
    items: list[EventOut]


class ClashOut(Schema):
    event: Id
    title: str
    starts_at: datetime.datetime
    score: int
    reasons: list[str]


class EventWithClashes(EventOut):
    clashes: list[ClashOut] = Field(description="Published events it clashes with, worst first.")


class BookingOut(Schema):
    id: Id
    event: Id
    student: str
    status: str
    source: str
    booked_at: datetime.datetime
    checked_in_at: datetime.datetime | None


class BookingPage(Page):
    items: list[BookingOut]
    counts: dict[str, int]


class WaitingOut(Schema):
    """A place on an event's waiting list, as "My events" shows it to its student."""

    id: Id
    event: Id
    status: str = Field(
        description="waiting; offered (a place is theirs to take up until "
        "offer_expires_at: POST /waiting-list/{id}/accept); accepted, expired, left or "
        "cancelled once it has ended."
    )
    position: int | None = Field(
        description="1 for the first person waiting; null unless the status is waiting."
    )
    joined_at: datetime.datetime
    offered_at: datetime.datetime | None = Field(
        description="When a place was offered, if one was."
    )
    offer_expires_at: datetime.datetime | None = Field(
        description="The offer's deadline: the place passes on if it is not taken up by then."
    )


class WaitingPage(Page):
    items: list[WaitingOut]


class Placed(Schema):
    """A booking's outcome, as answered to a token without the `read` scope."""

    event: Id
    outcome: Literal["booked", "waiting_list"]
    booking: Id | None
    waiting_list: WaitingOut | None = Field(
        description="The waiting-list place the call put you in (its id leaves it: "
        "DELETE /waiting-list/{id}); null when you were booked.",
    )


class PlaceOut(Placed):
    message: str


class VacancyOut(Schema):
    id: Id
    title: str
    type: str
    organisation: Named
    location: str
    remote: bool
    salary: str
    closing_date: datetime.date
    apply_url: str
    apply_email: str
    status: str = Field(
        description="Open ones are approved; an employer's own may be drafts, and one past "
        "its closing date is closed."
    )
    for_you: bool


class VacancyPage(Page):
    items: list[VacancyOut]


# What a write answers a token without the `read` scope: what it sent or asked, never the
# record, so that such a token (an import script's, leaked) is no way to read records
# and their contacts' emails and phones. Each holds a part of the full answer's fields.


class Written(Schema):
    """The record's id only (its version is the ETag header): the answer to a token without
    the `read` scope."""

    id: Id


class EventWritten(Written):
    """The event's id and the clashes publishing would meet (as the clash page shows them
    to an operator): the answer to a token without the `read` scope."""

    clashes: list[ClashOut] = Field(description="Published events it clashes with, worst first.")


class ChartOut(Schema):
    period: str
    periods: list[datetime.date]
    series: dict[str, list[int]] = Field(description="Emails sent per sending unit.")
    totals: list[int]


# Input --------------------------------------------------------------------------------

Text = Field(default=None, max_length=5000)


class Input(Schema):
    """A request body: a field it does not have is refused (400), never ignored, since a
    misspelt one (`visible_to_student`) would answer 200 and change nothing."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_null_characters(cls, value):
        """As the pages' fields refuse it: PostgreSQL stores no NUL, and failed with a 500."""
        if any(isinstance(text, str) and "\x00" in text for text in _texts(value)):
            raise PydanticCustomError("null_character", NULL_CHARACTERS)
        return value


NULL_CHARACTERS = "Null characters are not allowed."


def _texts(value) -> list:
    return list(value) if isinstance(value, list | tuple | set) else [value]


class OrganisationIn(Input):
    name: str = Field(min_length=1, max_length=200)
    website: str = Field("", max_length=200)
    sector: int | None = Field(None, ge=1, le=2**53)
    size: str = Field("", max_length=12)
    locations: str = Field("", max_length=300)
    description: str = Field("", max_length=DESCRIPTION_MAX_LENGTH)
    tags: list[str] = Field(default_factory=list, max_length=50)
    unit: int | None = Field(None, ge=1, le=2**53)
    confirm_duplicate: bool = Field(
        False, description="Create it although likely duplicates exist (answered with 409)."
    )


class OrganisationChange(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    website: str | None = Field(None, max_length=200)
    sector: int | None = Field(None, ge=1, le=2**53)
    size: str | None = Field(None, max_length=12)
    locations: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX_LENGTH)
    tags: list[str] | None = Field(None, max_length=50)
    confirm_duplicate: bool = Field(
        False,
        description="Save a new name or website although likely duplicates exist (answered "
        "with 409).",
    )


class ContactIn(Input):
    full_name: str = Field(min_length=1, max_length=150)
    job_title: str = Field("", max_length=150)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    visible_to_students: bool = False
    email_consent: bool = False


class ContactChange(Input):
    full_name: str | None = Field(None, min_length=1, max_length=150)
    job_title: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    visible_to_students: bool | None = None
    email_consent: bool | None = None


class NoteIn(Input):
    text: str = Field(min_length=1, max_length=20000)
    kind: str = "meeting"
    started_by: str = "us"
    date: datetime.date | None = None
    contacts: RecordIds = Field(default_factory=list, max_length=100)
    follow_up_on: datetime.date | None = None


class EventIn(Input):
    title: str = Field(min_length=1, max_length=200)
    unit: int = Field(ge=1, le=2**53)
    starts_at: LocalDateTime
    ends_at: LocalDateTime
    type: str = "other"
    venue: str = Field("", max_length=200)
    online_url: str = Field("", max_length=200)
    description: str = Field("", max_length=DESCRIPTION_MAX_LENGTH)
    organisations: RecordIds = Field(default_factory=list, max_length=100)
    open_to_all: bool = False
    audience_units: RecordIds = Field(default_factory=list, max_length=100)
    audience_programmes: RecordIds = Field(default_factory=list, max_length=100)
    audience_years: list[int] = Field(default_factory=list, max_length=10)
    open_to_employers: bool = False
    open_to_public: bool = False


class EventChange(Input):
    title: str | None = Field(None, min_length=1, max_length=200)
    starts_at: LocalDateTime | None = None
    ends_at: LocalDateTime | None = None
    type: str | None = None
    venue: str | None = Field(None, max_length=200)
    online_url: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX_LENGTH)
    organisations: RecordIds | None = Field(None, max_length=100)
    open_to_all: bool | None = None
    audience_units: RecordIds | None = Field(None, max_length=100)
    audience_years: list[int] | None = Field(None, max_length=10)
    open_to_employers: bool | None = None
    open_to_public: bool | None = None
    override_reason: str = Field("", max_length=2000)


class PublishIn(Input):
    override_reason: str = Field(
        "", max_length=2000, description="Why it goes ahead despite clashes (needed if any)."
    )
