from django.http import HttpResponseBadRequest, HttpResponseNotFound
from django.urls import reverse
from django_scopes import scopes_disabled


class AdminScopesMiddleware:
    """The Django admin is for superusers and staff across trusts: scopes are off there."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        if request.path.startswith(self.admin_prefix):
            with scopes_disabled():
                response = self.get_response(request)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                return response
        return self.get_response(request)


class NulCharacterMiddleware:
    """A NUL character in the path or the query string is never meaningful here, and PostgreSQL
    text cannot hold one: answer 404 (path) or 400 (query) instead of failing deep inside a query. (Form fields
    already refuse NUL: Django's ProhibitNullCharactersValidator.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            return HttpResponseNotFound("Not found.")  # no page has a NUL in its address
        if any("\x00" in key or "\x00" in value for key, value in request.GET.items()):
            return HttpResponseBadRequest("Bad request: the address contains a NUL character.")
        return self.get_response(request)
