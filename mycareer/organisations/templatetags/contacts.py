from django import template

from mycareer.organisations.selectors import liaison_agreements_in_force

register = template.Library()


@register.inclusion_tag("organisations/includes/contact_name.html", takes_context=True)
def contact_name(context, contact, link: bool = True, owner: bool = True):
    """A contact's name as shown everywhere: key contacts end in * with their owner beside them.

    For the person looking, it also says whether they may contact a key contact: they
    hold the key account, or the owners agreed ("You may contact … until 31 Dec (agreed
    by …)"), or they should liaise first.
    """
    links = contact.key_links_list
    user = context.get("user")
    mine = agreed = []
    if links and getattr(user, "is_authenticated", False):
        mine = [item for item in links if item.key_account.operator_id == user.pk]
        agreements = liaison_agreements_in_force(user)
        agreed = [agreements[item.pk] for item in links if item.pk in agreements]
    return {
        "contact": contact,
        "links": links,
        "link": link,
        "owner": owner,
        "mine": bool(mine),
        "agreed": agreed,
        # Free to contact: every link is theirs or agreed.
        "free": bool(links) and len(mine) + len(agreed) >= len(links),
    }
