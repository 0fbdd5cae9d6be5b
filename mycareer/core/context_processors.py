from mycareer.core.http import route_url
from mycareer.core.registry import nav_items


def navigation(request):
    """The navigation links the current person may follow, with the current one marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = []
    for item in nav_items():
        if item.visible(user):
            links.append({"label": item.label, "url": route_url(item.url_name), "current": False})
    # One link is current: the one whose address is the longest start of this page's
    # (/email/chart/ is the chart's, not also "Bulk email"'s at /email/).
    matching = [
        link
        for link in links
        if request.path == link["url"]
        or (link["url"] != "/" and request.path.startswith(link["url"]))
    ]
    if matching:
        max(matching, key=lambda link: len(link["url"]))["current"] = True
    return {"nav_links": links}
