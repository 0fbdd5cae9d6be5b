from collections.abc import Iterable

from django.conf import settings
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from mycareer.accounts.models import Unit
from mycareer.core.aggregates import split
from mycareer.core.fields import MultiLineTextField, SingleLineCharField
from mycareer.core.validators import validate_phone
from mycareer.organisations.validators import validate_logo


class Sector(models.Model):
    """The managed list of sectors an organisation can belong to."""

    name = SingleLineCharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TaggedOrganisation(TaggedItemBase):
    """Taggit's through model with a real, indexed foreign key to the organisation."""

    content_object = models.ForeignKey(
        "Organisation", on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="unique_org_tag")
        ]
        indexes = [models.Index(fields=["tag", "content_object"])]


def search_document_of(name: str, description: str, contact_names: Iterable[str]) -> str:
    """The text the substring search reads: name, description and contact names, in
    lower case, so the search compares it as it is (`search.filter_by_text`) instead of
    upper-casing every candidate row as it checks it."""
    parts = (name, description, " ".join(contact_names))
    return " ".join(part for part in parts if part).lower()


# A tag's token in an organisation's tag text (`Organisation.tag_document`): its id as
# three characters of Unicode's private-use area, base 2,048. No name or description
# holds them, so on SQLite a token is one trigram of the search index that means the
# tag and nothing else. Migration 0015's triggers write the same tokens in SQL.
TOKEN_BASE = 2048
TOKEN_FIRST = 0xE000


def tags_in_order(names: Iterable[str]) -> list[str]:
    """Tag names as every page lists them: by name, whatever their case."""
    return sorted(names, key=str.casefold)


def tag_token(tag_id: int) -> str:
    """The token of tag `tag_id` in the organisations' tag text."""
    digits = (tag_id // TOKEN_BASE**2, tag_id // TOKEN_BASE, tag_id)
    return "".join(chr(TOKEN_FIRST + digit % TOKEN_BASE) for digit in digits)


class HasTags(models.Lookup):
    """`tag_document__has_tags=[[token, …], …]`: every inner list met by one of its
    tokens (one list per tag asked for, a token per tag of that name whatever its case).

    PostgreSQL answers from the GIN index on the tokens as an array (migration 0015):
    `@>` for tags of one token, `&&` for each tag that has several. SQLite's tag search
    matches the index's tag column instead (`search.tag_match`).
    """

    lookup_name = "has_tags"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        return ("%s", [])

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        tokens = f"string_to_array({lhs}, ' ')"
        single = [group[0] for group in self.rhs if len(group) == 1]
        conditions = [("@>", single)] if single else []
        conditions += [("&&", list(group)) for group in self.rhs if len(group) > 1]
        sql = " AND ".join(f"{tokens} {operator} %s::text[]" for operator, _ in conditions)
        params = [param for _, group in conditions for param in (*lhs_params, group)]
        return f"({sql})", params


class TagDocument(models.TextField):
    """An organisation's tag tokens, space-separated (`tag_token`), for `has_tags`."""


TagDocument.register_lookup(HasTags)


class Organisation(models.Model):
    """An employer or partner organisation: the heart of the relationship record."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    class Size(models.TextChoices):
        MICRO = "micro", "Micro (1–9 staff)"
        SMALL = "small", "Small (10–49)"
        MEDIUM = "medium", "Medium (50–249)"
        LARGE = "large", "Large (250–999)"
        ENTERPRISE = "enterprise", "Very large (1,000 or more)"

    name = SingleLineCharField(max_length=200)
    # The name reduced for duplicate matching ("ACME Ltd." -> "acme"), kept in step by save().
    name_key = models.CharField(max_length=200, db_index=True, editable=False)
    website = models.URLField(blank=True)
    domain = models.CharField(max_length=200, blank=True, db_index=True, editable=False)
    sector = models.ForeignKey(
        Sector, null=True, blank=True, on_delete=models.SET_NULL, related_name="organisations"
    )
    size = models.CharField(max_length=12, choices=Size.choices, blank=True)
    locations = SingleLineCharField(
        max_length=300, blank=True, help_text="Towns or cities, separated by commas."
    )
    description = MultiLineTextField(blank=True)
    logo = models.ImageField(
        upload_to="logos/%Y/",
        blank=True,
        validators=[
            FileExtensionValidator(["png", "jpg", "jpeg", "gif", "webp"]),
            validate_logo,
        ],
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    unit = models.ForeignKey(
        Unit,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organisations_created",
        help_text="The unit that created the record.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept by refresh_last_engaged: the date of the latest recorded engagement.
    last_engaged_on = models.DateField(null=True, blank=True, db_index=True)
    # Its engagement score is kept in a table of its own (`OrganisationScore`).
    # Name, description and contact names in one lower-case text, for the substring
    # search index (`search_document_of`).
    search_document = models.TextField(blank=True, editable=False)
    # Its tags as one text for the search indexes, a token per tag (`search.tag_token`):
    # written only by the database's triggers on the tag links (migration 0015), never
    # by save(), which would write back the text it read before the tags changed.
    tag_document = TagDocument(blank=True, default="", db_default="", editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # Large organisations with many touch points across the university (for example
    # the Times Top 100) are owned by no one: none of their contacts is protected.
    multi_touch = models.BooleanField(
        default=False,
        help_text="Many touch points across the university; no protected key contacts.",
    )

    tags = TaggableManager(through=TaggedOrganisation, blank=True)

    # Set by the queries of lists and profiles (`organisations.search.KEY_ACCOUNTS`).
    key_account_list: list["KeyAccount"]

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(Lower("name"), name="org_name_lower_idx"),
            models.Index(fields=["status", "name"]),
            # Whether an organisation is live, found by its id without reading its row:
            # a search's count checks this for each of up to 10,001 matches.
            models.Index(fields=["id", "merged_into", "status"], name="org_live_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        from mycareer.organisations.matching import domain_from_url, name_key

        self.name_key = name_key(self.name)
        self.domain = domain_from_url(self.website)
        updating = self.pk and not self._state.adding and not kwargs.get("force_insert")
        if updating and kwargs.get("update_fields") is None:
            # What Django would write (the fields it loaded), less the triggers' tag text.
            unwritten = {"tag_document", *self.get_deferred_fields()}
            kwargs["update_fields"] = [
                field.attname
                for field in self._meta.concrete_fields
                if not field.primary_key and field.attname not in unwritten
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("organisations:detail", args=[self.pk])

    @property
    def tag_name_list(self) -> list[str]:
        """Its tag names by name, from what its query brought: the tags of a list's rows
        (`tag_list`, organisations.search.with_lists) or a profile's names in one text
        (`tag_names`, organisations.selectors.organisation_for_profile)."""
        brought = vars(self)
        if "tag_list" in brought:
            names = [tag.name for tag in brought["tag_list"]]
        else:
            names = split(brought["tag_names"])  # a KeyError: the query brought neither
        return tags_in_order(names)

    def refresh_last_engaged(self) -> None:
        """Set `last_engaged_on` to the latest note's date: every change to notes calls it."""
        self.last_engaged_on = self.notes.aggregate(latest=models.Max("date"))["latest"]
        Organisation.objects.filter(pk=self.pk).update(last_engaged_on=self.last_engaged_on)

    @property
    def location_list(self) -> list[str]:
        """Its places, each once, as first written ("Leeds, , leeds ,London," is two)."""
        seen: dict[str, str] = {}
        for part in self.locations.split(","):
            place = " ".join(part.split())
            if place:
                seen.setdefault(place.casefold(), place)
        return list(seen.values())

    @staticmethod
    def tidy_locations(locations: str) -> str:
        """`locations` as they are kept: each place once, separated by ", "."""
        return ", ".join(Organisation(locations=locations or "").location_list)

    def clean(self) -> None:
        # Kept as students read it on the profile and in the directory: each place once.
        self.locations = self.tidy_locations(self.locations)


class OrganisationScore(models.Model):
    """An organisation's latest engagement score, kept each night by the insights app
    (mycareer/insights/scores.py): 0 to 100, the sum of its explained parts; no row
    until first computed. Lists show it as `engagement_score` (organisations.search).

    Not a column of the organisation: a new score there rewrote the whole row in every
    index of the table (the text and tag indexes among them), and PostgreSQL puts a
    rewritten row on a new page, so the first night's scores doubled the table's pages
    and slowed every search that reads rows (`docs/decisions.md`, 2026-12-04).
    """

    organisation = models.OneToOneField(
        Organisation, primary_key=True, on_delete=models.CASCADE, related_name="current_score"
    )
    score = models.PositiveSmallIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.score}"


class KeptCount(models.Model):
    """How many live and archived organisations there are: with a tag, or (tag None) in
    all. Written only by the database's triggers (`organisations.kept_counts`, migration
    0017), read by the counts of the whole list and of a search for one tag. A figure is
    the sum of its rows: one row each on SQLite, a row per change on PostgreSQL until
    the night's compaction folds them.

    No constraint on the tag: when a tag is deleted its links' triggers still write the
    last changes; on PostgreSQL the night's compaction drops the rows that sum to nothing.
    """

    tag = models.ForeignKey(
        "taggit.Tag",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    live = models.IntegerField()
    archived = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.tag_id or 'all'}: {self.live} live, {self.archived} archived"


class TextMatch(models.Lookup):
    """`document__match=phrase`: an FTS5 MATCH on an index's column (the phrase is a
    bound parameter, in FTS5's query syntax; `search.filter_by_text` quotes words)."""

    lookup_name = "match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class IndexedDocument(models.TextField):
    """The column of a full-text index, which answers `match` and nothing else useful."""


IndexedDocument.register_lookup(TextMatch)


class OrganisationText(models.Model):
    """SQLite's substring index of the organisations' search documents, as a table to join.

    The FTS5 table is made by migration 0005 and kept by triggers (`search_index`), and
    nothing writes to it through this model. PostgreSQL never joins it (its trigram
    indexes serve the search); a view of the same name shows the documents there, so
    code that reads every model's table finds one on either database (a migration that
    changes the type of `Organisation.search_document` there must drop the view and
    make it again: PostgreSQL refuses to alter a column a view reads). Joined to the
    organisations (`text__document__match`), the index leads the query and yields its
    matches one by one, so a count that stops at 10,001 stops reading the index there
    too, where `id IN (the index's matches)` read every match first.
    """

    organisation = models.OneToOneField(
        Organisation,
        primary_key=True,
        db_column="rowid",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="text",
    )
    document = IndexedDocument(db_column="search_document")
    tags = IndexedDocument(db_column="tag_document")

    class Meta:
        managed = False
        db_table = "organisations_organisation_fts"

    def __str__(self) -> str:
        return self.document


class Contact(models.Model):
    """A person at an organisation. Their details are hidden from students unless allowed."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts"
    )
    full_name = SingleLineCharField(max_length=150)
    job_title = SingleLineCharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    phone = SingleLineCharField(max_length=40, blank=True, validators=[validate_phone])
    visible_to_students = models.BooleanField(
        default=False,
        help_text="Students may see this person's email and phone. Off unless they agreed.",
    )
    visibility_changed_at = models.DateTimeField(null=True, blank=True)
    visibility_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email_consent = models.BooleanField(
        default=False, help_text="The person agreed to receive email from the university."
    )
    email_bounced_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
        help_text="The employer login of this contact, if they have one.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the person was erased: the record stays for the notes and emails that
    # named them, but no one may be typed onto it (they would inherit that history).
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Lower("email"),
                condition=~Q(email=""),
                name="unique_contact_email_per_organisation",
                violation_error_message="This organisation already has a contact with this email.",
            )
        ]
        indexes = [models.Index(Lower("email"), name="contact_email_lower_idx")]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("organisations:contact", args=[self.organisation_id, self.pk])

    @property
    def display_name(self) -> str:
        """The name as shown everywhere (pages, pickers, exports); key contacts end in *,
        a sign to liaise before contacting them, which an erased person cannot be."""
        if self.erased_at is None and self.key_links_list:
            return f"{self.full_name} *"
        return self.full_name

    @property
    def key_links_list(self) -> list["KeyContact"]:
        """This contact's key-account links (uses a prefetch of `key_links` when there is one)."""
        if self.pk is None:
            return []
        return list(self.key_links.all())

    @property
    def email_domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].lower() if "@" in self.email else ""


class MergedContact(models.Model):
    """The number of a contact folded into another by a merge (the same email at both
    records), and the contact it became: old links to it (emails, bookmarks, the audit
    trail) reach the person, as a merged-away organisation's reach the survivor. It holds
    numbers only; deleting the contact it became ends it."""

    # The folded contact's own number, which old links name.
    id = models.BigIntegerField(primary_key=True)
    merged_into = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merged_from")
    merged_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Contact {self.pk}, merged into {self.merged_into_id}"


class EmailOptOut(models.Model):
    """A contact's choice not to receive a kind of email; read by every bulk send."""

    class Purpose(models.TextChoices):
        ALL = "all", "All bulk email"
        EVENTS = "events", "Event promotion"
        NEWSLETTERS = "newsletters", "Newsletters"
        VACANCIES = "vacancies", "Calls for vacancies"
        OTHER = "other", "Other announcements"

    class Method(models.TextChoices):
        FORM = "form", "Profile form"
        LINK = "link", "Unsubscribe link"
        STAFF = "staff", "Staff on request"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="opt_outs")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    method = models.CharField(max_length=10, choices=Method.choices)
    created_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "purpose"], name="unique_opt_out")
        ]

    def __str__(self) -> str:
        return f"{self.contact} opted out of {self.get_purpose_display()}"

    @classmethod
    def keeping_out(cls, purpose: str) -> set[str]:
        """The opt-outs that keep a bulk email of `purpose` from a contact: one of that
        kind or of all bulk email. An email of every kind at once (a campaign stored before
        each had to name its kind) is kept from anyone who opted out of any kind."""
        if purpose == cls.Purpose.ALL:
            return set(cls.Purpose.values)
        return {purpose, cls.Purpose.ALL}


class KeptOptOut(models.Model):
    """An opt-out that outlives its contact record, kept by the address's digest alone.

    A person who left a kind of bulk email and whose record was then deleted (or erased)
    must not get it again when their address comes back in a spreadsheet or a new
    record. Only a one-way digest of the address is kept (`optouts.address_digest`):
    it names no one, and can only say "this address said no".
    """

    address_digest = models.CharField(max_length=64)
    purpose = models.CharField(max_length=20, choices=EmailOptOut.Purpose.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address_digest", "purpose"], name="unique_kept_opt_out"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} refused by {self.address_digest[:8]}…"


class Note(models.Model):
    """A meaningful engagement with an organisation, recorded by a member of staff."""

    # Set by selectors.inbound_contacts_for_owner: the contacts the reader owns.
    owners_contacts: list["Contact"]

    class Kind(models.TextChoices):
        MEETING = "meeting", "Meeting"
        CALL = "call", "Phone or video call"
        EMAIL = "email", "Email"
        VISIT = "visit", "Visit"
        EVENT = "event", "Event"
        OTHER = "other", "Other"

    class StartedBy(models.TextChoices):
        # Policy 2.3 asks colleagues to liaise before *they* contact a key contact; a key
        # contact who phones or writes first may be answered, and the owner is told.
        US = "us", "We contacted them"
        THEM = "them", "They contacted us"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MEETING)
    started_by = models.CharField(
        "who started the contact",
        max_length=4,
        choices=StartedBy.choices,
        default=StartedBy.US,
    )
    date = models.DateField(default=timezone.localdate)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="notes"
    )
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL)
    contacts = models.ManyToManyField(Contact, blank=True, related_name="notes")
    text = MultiLineTextField()
    follow_up_on = models.DateField(null=True, blank=True)
    follow_up_done = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-created_at"]
        indexes = [
            models.Index(fields=["organisation", "-date"]),
            # "Notes I recorded" on My activity: a person's latest notes, among a million.
            models.Index(fields=["author", "-date"], name="note_author_date_idx"),
            models.Index(
                fields=["author", "follow_up_on"],
                condition=Q(follow_up_done=False, follow_up_on__isnull=False),
                name="note_open_follow_up_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.organisation} on {self.date}"

    def get_absolute_url(self) -> str:
        return f"{self.organisation.get_absolute_url()}#note-{self.pk}"


class SavedSearch(models.Model):
    """A tailored search a member of staff saved to run again."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches"
    )
    name = SingleLineCharField(max_length=120)
    query = models.CharField(max_length=2000, help_text="The search's query string.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_saved_search_name")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse('organisations:search')}?{self.query}"


class KeyAccountsInForce(models.Manager):
    """Key accounts that protect their contacts: not those released by multi-touch."""

    def get_queryset(self):
        return super().get_queryset().filter(released_at__isnull=True)


class KeyAccount(models.Model):
    """A unit's strategic relationship with an organisation, held by one operator.

    Marking the organisation multi-touch releases its key accounts rather than deleting
    them: `released_at` is set, and they (with their key contacts, guidance and liaison
    history) come back unchanged when it is no longer multi-touch. The default manager,
    and so every related manager and prefetch, sees only key accounts in force;
    `with_released` sees them all.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="key_accounts"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="key_accounts"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="key_accounts")
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True, db_index=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = KeyAccountsInForce()
    with_released = models.Manager()  # noqa: DJ012 (a second manager, not a field)

    class Meta:
        ordering = ["organisation__name", "unit__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "unit"], name="one_key_account_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit}'s key account with {self.organisation} ({self.operator})"


class KeyContactsInForce(models.Manager):
    """Key-contact links whose key account is in force (see `KeyAccount`)."""

    def get_queryset(self):
        return super().get_queryset().filter(key_account__released_at__isnull=True)


class KeyContact(models.Model):
    """A contact protected by a key account: others liaise with the owner before contacting."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="key_links")
    key_account = models.ForeignKey(
        KeyAccount, on_delete=models.CASCADE, related_name="key_contacts"
    )
    guidance = MultiLineTextField(
        blank=True, help_text="How colleagues should approach this contact, and when."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = KeyContactsInForce()
    with_released = models.Manager()  # noqa: DJ012 (a second manager, not a field)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "key_account"], name="unique_key_contact")
        ]

    def __str__(self) -> str:
        return f"{self.contact} (key contact of {self.key_account.operator})"


class LiaisonRequest(models.Model):
    """A colleague asks a key-account owner before contacting one of their key contacts."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        APPROVED = "approved", "Agreed"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="liaison_requests"
    )
    key_contact = models.ForeignKey(
        KeyContact, on_delete=models.CASCADE, related_name="liaison_requests"
    )
    reason = MultiLineTextField(help_text="Why you want to contact them.")
    proposed_engagement = MultiLineTextField(
        help_text="What you propose: the event, the email, the meeting."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = MultiLineTextField(blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requester", "key_contact", "status"])]

    def __str__(self) -> str:
        return f"{self.requester} asks to contact {self.key_contact.contact}"

    def is_in_force(self, day) -> bool:
        return (
            self.status == self.Status.APPROVED
            and self.valid_until is not None
            and self.valid_until >= day
        )

    @property
    def agreement_text(self) -> str:
        """What an agreement allows, as its requester reads it wherever the contact appears.

        "You may contact Ruth Key until 31 Dec (agreed by Tom Bennett)"; the year is
        given when it is not this year.
        """
        until = self.valid_until
        if until is None:
            return ""
        shown = date_format(until, "j M" if until.year == timezone.localdate().year else "j M Y")
        by = self.decided_by or self.key_contact.key_account.operator
        return (
            f"You may contact {self.key_contact.contact.full_name} until {shown} (agreed by {by})"
        )


class EmployerMembership(models.Model):
    """An employer login's link to their organisation; admins manage its profile and people."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        ACTIVE = "active", "Active"
        DECLINED = "declined", "Declined"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="employer_memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    is_admin = models.BooleanField(
        default=False, help_text="Edits the profile, contacts and vacancies; invites colleagues."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation}"


class RegistrationRequest(models.Model):
    """An employer's self-registration (new organisation, or joining one) for staff to moderate."""

    class Kind(models.TextChoices):
        NEW_ORGANISATION = "new", "New organisation"
        JOIN = "join", "Join an existing organisation"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registration_requests"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="registration_requests"
    )
    kind = models.CharField(max_length=5, choices=Kind.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    risk_score = models.PositiveSmallIntegerField(default=0)
    risk_reasons = models.JSONField(default=list, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = MultiLineTextField(blank=True)

    class Meta:
        ordering = ["-risk_score", "created_at"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_kind_display()}: {self.organisation}"

    @property
    def risk_level(self) -> str:
        if self.risk_score >= 50:
            return "high"
        return "medium" if self.risk_score >= 25 else "low"


class EmployerInvitation(models.Model):
    """An organisation admin invites a colleague, who then joins without moderation."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.organisation}"
