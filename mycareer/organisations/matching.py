"""Finding likely duplicate organisations before a new record is made.

Three signals, each with a reason a person can read: a similar name (ignoring legal
suffixes such as Ltd and PLC, a trailing Group or Holdings, "&" versus "and", case and
punctuation), the same web domain, and contacts whose email addresses share a (non
free-mail) domain.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process

# Words that say what kind of company it is, not which one.
LEGAL_WORDS = {
    "ltd",
    "limited",
    "plc",
    "llp",
    "llc",
    "inc",
    "incorporated",
    "co",
    "corp",
    "corporation",
    "company",
    "the",
    "uk",
    "gmbh",
    "sa",
    "ag",
}

# Words that end a name to say it is the parent of a group ("The Pennine Analytics
# Group", "Pennine Analytics Holdings"): the same employer to the duplicate check, which
# ignores them at the end only. Leading, they are part of the name ("Group Lotus" is not
# "Lotus"); unlike the legal words they stay in the stored key, which names an
# organisation exactly (the event form reads it).
GROUP_WORDS = {"group", "holdings", "holding"}

FREE_MAIL_DOMAINS = {
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "live.com",
    "live.co.uk",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "icloud.com",
    "me.com",
    "aol.com",
    "protonmail.com",
    "proton.me",
    "gmx.com",
    "mail.com",
    "btinternet.com",
    "sky.com",
    "virginmedia.com",
}

NAME_THRESHOLD = 88


def name_key(name: str) -> str:
    """Reduce a name for comparison: 'ACME Ltd.' and 'Acme Limited' both give 'acme'."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    text = text.lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    words = [w for w in text.split() if w not in LEGAL_WORDS]
    return " ".join(words)


def compared_name(key: str) -> str:
    """A name's key (`name_key`) as the duplicate check compares it: without the group
    words that end it, but never without a name ("Holdings Group" stays as it is)."""
    words = key.split()
    end = len(words)
    while end > 0 and words[end - 1] in GROUP_WORDS:
        end -= 1
    return " ".join(words[:end]) if end else key


def domain_from_url(url: str) -> str:
    """The registrable-looking host of a website: 'https://www.Acme.co.uk/jobs' -> 'acme.co.uk'."""
    url = (url or "").strip()
    if not url:
        return ""
    if "://" not in url:
        url = f"http://{url}"
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        # Not an address at all ("http://[", a stray "]"): no domain to compare. The
        # duplicate check runs before the website is validated, which then refuses it.
        return ""
    return host.removeprefix("www.")


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in (email or "") else ""


def is_free_mail(domain: str) -> bool:
    return domain in FREE_MAIL_DOMAINS


def domains_match(a: str, b: str) -> bool:
    """True for the same domain or one a subdomain of the other (careers.acme.com, acme.com)."""
    if not a or not b:
        return False
    return a == b or a.endswith(f".{b}") or b.endswith(f".{a}")


def _sorted_words(text: str) -> str:
    return " ".join(sorted(text.split()))


def _parents(domain: str) -> list[str]:
    """'careers.acme.co.uk' -> ['acme.co.uk', 'co.uk', 'uk']."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels))]


class _DomainIndex:
    """Finds the entries whose domain `domains_match` a given one, without a full scan."""

    def __init__(self):
        self.exact: dict[str, set[int]] = {}
        self.below: dict[str, set[int]] = {}

    def add(self, domain: str, index: int) -> None:
        if not domain:
            return
        self.exact.setdefault(domain, set()).add(index)
        for parent in _parents(domain):
            self.below.setdefault(parent, set()).add(index)

    def matching(self, domain: str) -> set[int]:
        if not domain:
            return set()
        found = self.exact.get(domain, set()) | self.below.get(domain, set())
        for parent in _parents(domain):
            found = found | self.exact.get(parent, set())
        return found


@dataclass
class DuplicateCandidate:
    organisation_id: int
    name: str
    score: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Row:
    pk: int
    name: str
    key: str
    domain: str
    email_domains: set[str]


class DuplicateFinder:
    """Holds the existing organisations once, so checking many new names stays fast."""

    def __init__(
        self, rows: Iterable[tuple[int, str, str, str]], email_domains: dict[int, set[str]]
    ):
        self.rows = [
            _Row(pk, name, key, domain, email_domains.get(pk, set()))
            for pk, name, key, domain in rows
        ]
        self.keys = [row.key for row in self.rows]
        # token_sort_ratio is ratio() of the words sorted; sorting each record's words
        # once, not once per name checked, makes checking an import's names much faster.
        self._sorted_keys = [_sorted_words(compared_name(key)) for key in self.keys]
        # Domains indexed by themselves and by each parent, so checking thousands of
        # names (an import) does not compare every name with every record.
        self._web = _DomainIndex()
        self._email = _DomainIndex()
        for index, row in enumerate(self.rows):
            self._web.add(row.domain, index)
            for domain in row.email_domains:
                self._email.add(domain, index)

    def find(
        self, *, name: str, website: str = "", emails: Iterable[str] = (), limit: int = 5
    ) -> list[DuplicateCandidate]:
        found: dict[int, DuplicateCandidate] = {}

        def candidate(row: _Row) -> DuplicateCandidate:
            return found.setdefault(row.pk, DuplicateCandidate(row.pk, row.name))

        key = name_key(name)
        if key:
            for _, score, index in process.extract(
                _sorted_words(compared_name(key)),
                self._sorted_keys,
                scorer=fuzz.ratio,
                score_cutoff=NAME_THRESHOLD,
                limit=limit,
            ):
                row = self.rows[index]
                item = candidate(row)
                item.score = max(item.score, int(score))
                item.reasons.append(
                    "Same name" if score >= 100 else f"Similar name ({int(score)}% alike)"
                )
        domain = domain_from_url(website)
        if domain:
            for index in sorted(self._web.matching(domain)):
                row = self.rows[index]
                item = candidate(row)
                item.score = max(item.score, 95)
                item.reasons.append(f"Same web domain: {row.domain}")
        wanted = {d for d in (email_domain(e) for e in emails) if d and not is_free_mail(d)}
        if domain and not is_free_mail(domain):
            wanted.add(domain)
        shared: dict[int, set[str]] = {}
        for wanted_domain in wanted:
            for index in self._email.matching(wanted_domain):
                shared.setdefault(index, set()).add(wanted_domain)
        for index in sorted(shared):
            item = candidate(self.rows[index])
            item.score = max(item.score, 90)
            item.reasons.append(f"Contacts with email at {', '.join(sorted(shared[index]))}")
        return sorted(found.values(), key=lambda c: (-c.score, c.name))[:limit]
