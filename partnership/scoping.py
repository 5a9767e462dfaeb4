"""Trust scoping: the single entry point every trust page goes through.

`TrustScopedMixin` resolves `<trust_code>` from the URL, insists on an active membership of
the signed-in person in that trust (404 otherwise, so other trusts' existence is not even
confirmed), checks the view's `required_action` (403) and runs the whole view, template
rendering included, inside `django_scopes.scope(trust=...)`. Its responses are never stored
(no-store): they hold a person's own answers or the trust's confidential results. Scoped managers then filter
every query to that trust, and a query outside any scope raises.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.cache import add_never_cache_headers
from django_scopes import scope, scopes_disabled

from .models import Membership, Trust
from .permissions import membership_can


def membership_for(user, trust):
    """The user's active membership of `trust`, or None."""
    if not user.is_authenticated:
        return None
    with scopes_disabled():
        return (
            Membership.objects.active()
            .select_related("trust", "directorate", "user")
            .filter(user=user, trust=trust)
            .first()
        )


def memberships_of(user):
    """Every active membership of a person, across trusts (the trust picker needs them all)."""
    with scopes_disabled():
        return list(
            Membership.objects.active().select_related("trust", "directorate").filter(user=user).order_by("trust__name")
        )


def trust_for_member(user, trust_code):
    """(trust, membership) for a member; Http404 for everyone else, whether or not the trust exists."""
    trust = Trust.objects.filter(code=trust_code).first()
    membership = membership_for(user, trust) if trust else None
    if membership is None:
        raise Http404("No such trust.")
    return trust, membership


class TrustScopedMixin(LoginRequiredMixin):
    """Base for every view under /trusts/<trust_code>/."""

    required_action = None  # e.g. "people.invite"; None = any active member

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.trust, self.membership = trust_for_member(request.user, kwargs["trust_code"])
        if self.required_action and not membership_can(self.membership, self.required_action):
            raise PermissionDenied("Your role in this trust does not allow this.")
        request.trust, request.membership = self.trust, self.membership
        with scope(trust=self.trust):
            response = super().dispatch(request, *args, **kwargs)
            # Render lazily-rendered responses while the scope is still active.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        # Every trust page shows a person's own answers or the trust's confidential results:
        # never kept by the browser or a shared cache (Cache-Control: no-store, private).
        add_never_cache_headers(response)
        return response

    def get_context_data(self, **kwargs):
        kwargs.setdefault("trust", self.trust)
        kwargs.setdefault("membership", self.membership)
        return super().get_context_data(**kwargs)
