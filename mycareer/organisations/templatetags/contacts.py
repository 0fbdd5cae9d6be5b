from django import template

register = template.Library()


@register.inclusion_tag("organisations/includes/contact_name.html")
def contact_name(contact, link: bool = True, owner: bool = True):
    """A contact's name as shown everywhere: key contacts end in * with their owner beside them."""
    return {"contact": contact, "links": contact.key_links_list, "link": link, "owner": owner}
