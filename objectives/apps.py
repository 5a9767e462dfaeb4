from django.apps import AppConfig


class ObjectivesConfig(AppConfig):
    name = "objectives"
    verbose_name = "Shared objectives"

    def ready(self):
        from . import home  # noqa: F401 -- registers the home page panel
