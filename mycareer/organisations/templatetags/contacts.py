from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from mycareer.accounts.templatetags.people import staff_card
from mycareer.core.text import joined
from mycareer.organisations.keyaccounts import OPERATOR_LEFT, OPERATOR_LEFT_NOTHING_WAITS
from mycareer.organisations.models import LiaisonRequest
from mycareer.organisations.selectors import liaison_agreements_in_force

register = template.Library()


@register.simple_tag(takes_context=True)
def contact_name(context, contact, link: bool = True, owner: bool = True):
    """A contact's name as shown everywhere: key contacts end in * with their owner beside them.

    For the person looking, it also says whether they may contact a key contact: they
    hold the key account, or the owners agreed ("You may contact … until 31 Dec (agreed
    by …)"), or they should liaise first. Stripped, so that punctuation written after
    the tag follows the name directly.
    """
    links = contact.key_links_list
    user = context.get("user")
    mine = agreed = []
    agreements: dict = {}
    if links and getattr(user, "is_authenticated", False):
        mine = [item for item in links if item.key_account.operator_id == user.pk]
        agreements = liaison_agreements_in_force(user)
        agreed = [agreements[item.pk] for item in links if item.pk in agreements]
    # Those still to ask, and those who cannot be asked: an owner who has left answers
    # nothing, so "liaise with them" would send the person to a closed login.
    unfree = [item for item in links if item not in mine and item.pk not in agreements]
    left = [item.key_account.operator for item in unfree if not item.key_account.operator.is_active]
    html = render_to_string(
        "organisations/includes/contact_name.html",
        {
            "contact": contact,
            "links": links,
            "link": link,
            "owner": owner,
            "mine": bool(mine),
            "agreed": agreed,
            # Free to contact: every link is theirs or agreed.
            "free": bool(links) and len(mine) + len(agreed) >= len(links),
            "to_ask": len(unfree) - len(left),
            "left": left,
            "left_names": joined([str(person) for person in left]),
        },
    )
    return mark_safe(html.strip())  # noqa: S308 (rendered with autoescape on)


@register.filter
def without_final_stop(text: str) -> str:
    """Free text placed mid-sentence: its own full stop would double the sentence's."""
    return str(text).rstrip().rstrip(".")


@register.inclusion_tag("accounts/includes/staff_card.html")
def key_account_card(account, unit: bool = True, liaison=None):
    """A key account's operator as `staff_card` shows them; when they have left, no way
    to reach them but what to do instead. On the page of a `liaison` request already
    answered or withdrawn, not that nobody can answer one: this one waits on nobody."""
    role = str(account.unit) if unit else ""
    waits = liaison is None or liaison.status == LiaisonRequest.Status.PENDING
    return staff_card(
        account.operator,
        role=role,
        when_left=OPERATOR_LEFT if waits else OPERATOR_LEFT_NOTHING_WAITS,
    )
