"""API token pages ("shown once, then only its name") and the API's own documentation."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from mycareer.api import services
from mycareer.api.forms import ServiceTokenForm, TokenForm
from mycareer.api.models import ApiToken
from mycareer.core.forms import MAX_ID, add_validation_error, bounded_int
from mycareer.core.permissions import require


def _create(request, form, **extra):
    """Make the token the valid form describes; returns its secret, or None (form errors)."""
    from django.core.exceptions import ValidationError

    try:
        _token, secret = services.token_create(
            by=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            days=form.cleaned_data["days"],
            **extra,
        )
    except ValidationError as error:
        add_validation_error(form, error)
        return None
    return secret


def _token_page(request, form_class, template: str, tokens, **extra):
    """The list of tokens and the form that makes one; a new token's secret shown once."""
    # What the person making it may use (a unit's system acts with their access).
    offered = services.scopes_for(request.user)
    # A unit's token is staff's: its reading is theirs whoever makes it.
    kind = "" if form_class is ServiceTokenForm else request.user.kind
    form = form_class(request.POST or None, scopes=offered, kind=kind)
    secret = None
    if request.method == "POST" and form.is_valid():
        if "unit" in form.cleaned_data:
            extra["unit"] = form.cleaned_data["unit"]
        secret = _create(request, form, owner=request.user, **extra)
        if secret:
            form = form_class(scopes=offered, kind=kind)
    return render(
        request,
        template,
        {"form": form, "secret": secret, "tokens": tokens},
        status=201 if secret else 200,
    )


@require("api.use_tokens")
@require_http_methods(["GET", "POST"])
def tokens(request):
    """A person's own tokens: make one (its secret shown once), see their use, revoke."""
    mine = ApiToken.objects.filter(owner=request.user, unit__isnull=True).select_related("owner")
    return _token_page(request, TokenForm, "api/tokens.html", mine)


@require("api.create_service_token")
@require_http_methods(["GET", "POST"])
def service_tokens(request):
    """Administrators make tokens for a unit's systems and see them all."""
    found = ApiToken.objects.filter(unit__isnull=False).select_related("owner", "unit")
    return _token_page(request, ServiceTokenForm, "api/service_tokens.html", found)


@require("api.use_tokens")
@require_http_methods(["GET", "POST"])
def revoke(request, pk: int):
    """Revoke a token, after a page that says what stops with it: the systems that use it
    fail at once, and a revoked token never works again."""
    if bounded_int(pk, low=1, high=MAX_ID) is None:
        raise Http404
    token = get_object_or_404(ApiToken.objects.select_related("unit"), pk=pk)
    if token.owner_id != request.user.pk and not request.user.has_perm("mycareer.administer"):
        return render(
            request, "403.html", {"reason": "This token is not yours to revoke."}, status=403
        )
    back = "api_pages:service_tokens" if token.unit_id else "api_pages:tokens"
    if token.state != "active":
        # Pressed twice, or a page left open: nothing is left to revoke.
        messages.info(request, f"“{token.name}” is already {token.state}: it no longer works.")
        return redirect(back)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        services.token_revoke(token=token, by=request.user)
        messages.success(request, f"“{token.name}” is revoked: it no longer works.")
        return redirect(back)
    return render(request, "api/token_revoke.html", {"token": token, "back": back})


@require_safe
def docs(request):
    """The API's reference, rendered here from the OpenAPI schema (no script needed)."""
    from mycareer.api.api import api
    from mycareer.api.reference import operations

    schema = api.get_openapi_schema()
    return render(
        request,
        "api/docs.html",
        {"info": schema["info"], "operations": operations(schema)},
    )


@require_safe
def explorer(request):
    """The interactive documentation (Swagger UI from the installed package's static
    files, started by a script of ours); the reference above is its no-JavaScript form."""
    return render(request, "api/explorer.html")
