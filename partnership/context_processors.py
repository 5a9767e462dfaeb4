from django.conf import settings


def site(request):
    """The trust and membership of the current page (set by TrustScopedMixin) for the layout."""
    return {
        "brand_name": "Common Ground",
        "current_trust": getattr(request, "trust", None),
        "current_membership": getattr(request, "membership", None),
        "debug": settings.DEBUG,
    }
