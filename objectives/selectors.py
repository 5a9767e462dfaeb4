"""Reads for objective pages: fixed numbers of queries whatever the number of objectives."""

from django.db.models import Count, Prefetch, Q

from partnership.models import Directorate

from .models import Objective, SignOff, Status
from .services import objectives_visible_filter


def objective_list(*, membership, filters):
    """(objectives, counts by status) for the list page, with `filters` from ObjectiveFilterForm."""
    queryset = Objective.objects.filter(objectives_visible_filter(membership))
    if filters.get("theme"):
        queryset = queryset.filter(theme=filters["theme"])
    directorate = filters.get("directorate")
    if directorate == "trust-wide":
        queryset = queryset.filter(directorate__isnull=True)
    elif directorate:
        queryset = queryset.filter(directorate_id=directorate)
    lead = filters.get("lead")
    if lead:
        queryset = queryset.filter(Q(clinical_lead=lead) | Q(managerial_lead=lead))
    counts = dict(queryset.values_list("status").annotate(n=Count("id")).order_by())
    status_counts = [(value, label, counts.get(value, 0)) for value, label in Status.choices]
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    queryset = queryset.select_related("directorate", "clinical_lead__user", "managerial_lead__user").prefetch_related(
        Prefetch("signoffs", queryset=SignOff.objects.select_related("membership__user"))
    )
    return queryset.order_by("ref"), status_counts


def objective_history(objective):
    """[{when, who, what}] newest first: changes to the objective and its sign-offs."""
    entries = []
    records = list(objective.history.select_related("history_user").order_by("history_date", "history_id"))
    labels = {field.name: field.verbose_name for field in Objective._meta.fields}
    directorate_names = dict(Directorate.objects.filter(trust=objective.trust).values_list("pk", "name"))
    previous = None
    for record in records:
        if previous is None:
            what = ["Created as draft" if record.status == Status.DRAFT else f"Created as {record.status}"]
        else:
            delta = record.diff_against(
                previous, excluded_fields=["proposal_version", "proposed_at", "agreed_at", "proposed_by", "created_by"]
            )
            what = []
            for change in delta.changes:
                if change.field == "status":
                    what.append(f"Status {change.old} → {change.new}")
                elif change.field == "directorate":
                    old = directorate_names.get(change.old, "trust-wide")
                    new = directorate_names.get(change.new, "trust-wide")
                    what.append(f"Directorate {old} → {new}")
                else:
                    what.append(f"Changed {labels.get(change.field, change.field)}")
            if record.history_change_reason:
                what.append(record.history_change_reason)
        previous = record
        if what:
            entries.append({"when": record.history_date, "who": record.history_user, "what": what})
    signoff_records = SignOff.history.filter(objective_id=objective.pk).select_related(
        "history_user", "membership__user"
    )
    for record in signoff_records:
        signer = record.membership.user if record.membership_id else None
        name = (signer.full_name or signer.email) if signer else "someone"
        if record.history_type == "+":
            what = f"Signed off for the {record.side} side by {name}"
        elif record.history_type == "-":
            what = f"{record.side.capitalize()} sign-off by {name} cleared"
        else:
            continue
        entries.append({"when": record.history_date, "who": record.history_user, "what": [what]})
    entries.sort(key=lambda entry: entry["when"], reverse=True)
    return entries
