"""Demo objectives for the Northgate trust: twelve across themes and directorates, in mixed
states, written and signed off through the same services people use (so their history
reads like the real thing). Objectives that already exist are left alone."""

from datetime import date

from django.utils import timezone
from django_scopes import scope

from partnership.models import Directorate, Membership

from . import services
from .models import Objective, Status

DOMAIN = "northgate.example.nhs.uk"

# (ref, title, theme, directorate or None, final status, success measure, months to target)
OBJECTIVES = [
    (
        "OBJ-01",
        "Clinicians co-lead every service redesign",
        "devolved-decisions",
        None,
        Status.AGREED,
        "Every redesign project has a named clinical and managerial co-lead from its first meeting.",
        9,
    ),
    (
        "OBJ-02",
        "Review every cost-improvement plan jointly for quality and money",
        "aligned-interests",
        None,
        Status.AGREED,
        "No plan goes to the board without a quality impact assessment signed by both leads.",
        6,
    ),
    (
        "OBJ-03",
        "A monthly doctor–manager leadership forum",
        "dialogue",
        None,
        Status.AGREED,
        "Ten forums a year, each with at least half of clinical directors and directorate managers present.",
        12,
    ),
    (
        "OBJ-04",
        "Medical director and chief executive visit services together every week",
        "mutual-understanding",
        None,
        Status.AGREED,
        "Forty joint visits a year, each followed up in writing within a week.",
        12,
    ),
    (
        "OBJ-05",
        "A shared quarterly picture of the pressures on the trust",
        "shared-environment",
        None,
        Status.PROPOSED,
        "One page each quarter, agreed by the medical director and the director of finance.",
        4,
    ),
    (
        "OBJ-06",
        "Protected time for clinical leadership in job plans",
        "continuity",
        None,
        Status.AGREED,
        "Every clinical director has at least two programmed activities for leadership.",
        8,
    ),
    (
        "OBJ-07",
        "Invite external challenge on the clinical strategy twice a year",
        "seeking-challenge",
        None,
        Status.DRAFT,
        "Two sessions a year with an external peer, with actions tracked by the board.",
        10,
    ),
    (
        "OBJ-08",
        "Assess the effect on patients before any budget decision",
        "clinical-focus",
        None,
        Status.AGREED,
        "Every budget paper carries a clinical impact section written with a clinician.",
        5,
    ),
    (
        "OBJ-09",
        "Front-door frailty pathway redesigned by the team that runs it",
        "local-innovation",
        0,
        Status.AGREED,
        "Length of stay for frail patients down by a day, measured by the team itself.",
        9,
    ),
    (
        "OBJ-10",
        "Theatre lists planned together by surgeons and managers",
        "aligned-interests",
        1,
        Status.ACHIEVED,
        "Lists fixed six weeks ahead with both signatures; late cancellations halved.",
        3,
    ),
    (
        "OBJ-11",
        "Joint learning reviews after every serious incident",
        "learning-together",
        2,
        Status.PROPOSED,
        "A joint review within 30 days of each serious incident, shared with both teams.",
        6,
    ),
    (
        "OBJ-12",
        "Disagreements on imaging capacity aired at the directorate meeting",
        "differences-as-asset",
        3,
        Status.RETIRED,
        "A standing agenda item with the options and both views written down.",
        6,
    ),
]
DIRECTORATE_LOGINS = ["medicine", "surgery", "womens", "support"]


def _member(email):
    return Membership.objects.select_related("user").get(user__email=email)


def _months_ahead(months):
    today = timezone.localdate()
    month = today.month - 1 + months
    return date(today.year + month // 12, month % 12 + 1, 1)


def demo_seed(trust):
    created = 0
    with scope(trust=trust):
        directorates = list(Directorate.objects.order_by("pk"))
        by_name = {d.name: d for d in directorates}
        from partnership.demo.people import DIRECTORATES

        md, ceo = _member(f"md@{DOMAIN}"), _member(f"ceo@{DOMAIN}")
        for ref, title, theme, directorate_index, status, measure, months in OBJECTIVES:
            if Objective.objects.filter(ref=ref).exists():
                continue
            if directorate_index is None:
                directorate, author, second = None, md, ceo
                leads = (md, ceo)
            else:
                directorate = by_name[DIRECTORATES[directorate_index]]
                login = DIRECTORATE_LOGINS[directorate_index]
                author, second = _member(f"cd.{login}@{DOMAIN}"), _member(f"dm.{login}@{DOMAIN}")
                leads = (author, second)
            objective = services.objective_create(
                trust=trust,
                by=author,
                ref=ref,
                title=title,
                theme=theme,
                directorate=directorate,
                clinical_lead=leads[0],
                managerial_lead=leads[1],
                success_measure=measure,
                target_date=_months_ahead(months),
                description="",
            )
            created += 1
            if status == Status.DRAFT:
                continue
            objective = services.objective_propose(objective=objective, by=author)
            if status == Status.PROPOSED:
                continue
            objective = services.objective_sign_off(objective=objective, by=second)
            if status == Status.ACHIEVED:
                services.objective_mark_achieved(objective=objective, by=author)
            elif status == Status.RETIRED:
                services.objective_retire(objective=objective, by=author)
    return f"{created} objective(s) created ({len(OBJECTIVES) - created} already there)"
