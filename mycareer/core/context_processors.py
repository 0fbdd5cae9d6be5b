from django.urls import reverse

from mycareer.core.registry import nav_items


def navigation(request):
    """The navigation links the current person may follow, with the current one marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = []
    for item in nav_items():
        if item.visible(user):
            url = reverse(item.url_name)
            current = request.path == url or (url != "/" and request.path.startswith(url))
            links.append({"label": item.label, "url": url, "current": current})
    return {"nav_links": links}
