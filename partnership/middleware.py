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
