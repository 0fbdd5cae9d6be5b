"""``{% url %}`` as Django's, with the address of a route without arguments found once.

A built-in of the project's templates (settings: TEMPLATES' ``builtins``), so every
template has it without loading it. A page names a dozen routes without arguments (its
menu, its buttons, its forms' actions), each reversed on every page at about 20 µs;
these are now found once per route, script prefix and URLconf (`core.http.route_url`).
A route with arguments is reversed as before. The project has no instance namespaces,
so the current app that Django's tag passes to `reverse` changes no address.
"""

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from mycareer.core.http import route_url

register = template.Library()


class RouteNode(URLNode):
    def render(self, context):
        if self.args or self.kwargs:
            return super().render(context)
        try:
            address = route_url(self.view_name.resolve(context))
        except NoReverseMatch:
            if self.asvar is None:
                raise
            address = ""
        if self.asvar:
            context[self.asvar] = address
            return ""
        return conditional_escape(address) if context.autoescape else address


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return RouteNode(node.view_name, node.args, node.kwargs, node.asvar)
