from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Rating rounds and reports"

    def ready(self):
        from . import home  # noqa: F401 -- registers the home page panel
