from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Rating rounds and reports"

    def ready(self):
        from . import home, objective_panel  # noqa: F401 -- register the home and objective page panels
