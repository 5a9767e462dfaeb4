"""manage.py build_reports: builds a month's reports once, prints a line per trust and a
summary, sends with --send only to recipients not yet sent, and refuses bad input before
writing anything."""

import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from surveys.models import DivergenceReport, OutboxStatus, ReportDelivery
from surveys.services.rounds import round_get_or_create
from tests.factories import MembershipFactory, ObjectiveFactory
from tests.surveys.helpers import anonymous_ratings

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("build_reports", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rate(round_, objective, group, scores):
    anonymous_ratings(round_, objective, group, "operational", scores)


def rated_round(trust, period=date(2026, 2, 1)):
    round_ = round_get_or_create(trust=trust, period=period)
    objective = ObjectiveFactory(trust=trust, status="agreed", ref="OBJ-01", title="Co-led redesign")
    rate(round_, objective, "clinical", [1, 2, 2, 1, 2, 2])
    rate(round_, objective, "managerial", [4, 4, 5, 4, 4, 5])
    return round_


@pytest.fixture
def two_trusts(trust, other_trust, mid_march):
    rated_round(trust)
    rated_round(other_trust)
    for t, prefix in ((trust, "ashby"), (other_trust, "brook")):
        MembershipFactory(trust=t, medical_director=True, receives_board_report=True, user__email=f"md@{prefix}.nhs.uk")
        MembershipFactory(trust=t, chief_executive=True, receives_board_report=True, user__email=f"ceo@{prefix}.nhs.uk")
    return trust, other_trust


def test_builds_every_trusts_report_of_the_month(two_trusts, unscoped):
    out, err = run("--period", "2026-02")
    lines = out.strip().splitlines()
    assert lines == [
        "RAA 2026-02: built (1 objective, 1 divergent)",
        "RBB 2026-02: built (1 objective, 1 divergent)",
        "Reports for 2026-02: 2 built, 0 already built.",
    ]
    assert DivergenceReport.objects.count() == 2
    assert set(ReportDelivery.objects.values_list("status", flat=True)) == {OutboxStatus.PENDING}
    assert ReportDelivery.objects.count() == 4
    assert mail.outbox == []  # without --send nothing goes out (the scheduled sender will)


def test_running_again_builds_nothing_new(two_trusts, unscoped):
    run("--period", "2026-02")
    reports = {r.pk: r.data for r in DivergenceReport.objects.all()}
    out, _ = run("--period", "2026-02")
    assert out.strip().splitlines()[-1] == "Reports for 2026-02: 0 built, 2 already built."
    assert "RAA 2026-02: already built" in out
    assert {r.pk: r.data for r in DivergenceReport.objects.all()} == reports
    assert ReportDelivery.objects.count() == 4


def test_one_trust_only(two_trusts, unscoped):
    out, _ = run("--period", "2026-02", "--trust", "rbb")
    assert out.strip().splitlines() == [
        "RBB 2026-02: built (1 objective, 1 divergent)",
        "Reports for 2026-02: 1 built, 0 already built.",
    ]
    assert list(DivergenceReport.objects.values_list("trust__code", flat=True)) == ["RBB"]


def test_send_sends_now_and_only_to_recipients_not_yet_sent(two_trusts, unscoped):
    trust, _ = two_trusts
    out, _ = run("--period", "2026-02", "--trust", "RAA", "--send")
    assert "RAA 2026-02: built (1 objective, 1 divergent); 2 email(s) sent" in out
    assert out.strip().splitlines()[-1] == "Reports for 2026-02: 1 built, 0 already built; 2 email(s) sent, 0 failed."
    assert sorted(m.to[0] for m in mail.outbox) == ["ceo@ashby.nhs.uk", "md@ashby.nhs.uk"]

    out, _ = run("--period", "2026-02", "--trust", "RAA", "--send")
    assert out.strip().splitlines()[-1] == "Reports for 2026-02: 0 built, 1 already built; 0 email(s) sent, 0 failed."
    assert len(mail.outbox) == 2

    MembershipFactory(trust=trust, role="board_member", professional_group="managerial", level="board",
                      receives_board_report=True, user__email="chair@ashby.nhs.uk")  # fmt: skip
    out, _ = run("--period", "2026-02", "--trust", "RAA", "--send")
    assert "1 email(s) sent" in out
    assert [m.to[0] for m in mail.outbox[2:]] == ["chair@ashby.nhs.uk"]


def test_send_ignores_a_pending_backoff(two_trusts, unscoped):
    run("--period", "2026-02", "--trust", "RAA")
    ReportDelivery.objects.filter(email="md@ashby.nhs.uk").update(next_attempt_at=timezone.now() + timedelta(hours=1))
    run("--period", "2026-02", "--trust", "RAA", "--send")
    assert sorted(m.to[0] for m in mail.outbox) == ["ceo@ashby.nhs.uk", "md@ashby.nhs.uk"]


def test_a_trust_whose_round_is_still_open_is_skipped_when_building_all(two_trusts, unscoped):
    trust, other = two_trusts
    with scopes_disabled():
        late = other.rounds.get(period=date(2026, 2, 1))
        late.closes_on = date(2026, 3, 20)  # extended: still open in mid March
        late.save()
    out, _ = run("--period", "2026-02")
    assert "RBB" not in out
    assert list(DivergenceReport.objects.values_list("trust__code", flat=True)) == ["RAA"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--period", "2026-13"], "period '2026-13' is not a month like 2026-03"),
        (["--period", "Feb 2026"], "is not a month like 2026-03"),
        (["--period", "2026-02", "--trust", "RZZ"], "No trust with code 'RZZ'"),
        (["--period", "2026-03", "--trust", "RAA"], "RAA's March 2026 round has not closed yet"),
        (["--period", "2026-03"], "No trust's March 2026 round has closed yet"),
        (["--period", "2025-06"], "No trust has a rating round for 2025-06"),
        (["--period", "2025-06", "--trust", "RAA"], "RAA has no rating round for 2025-06"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(two_trusts, args, message, unscoped):
    trust, _ = two_trusts
    round_get_or_create(trust=trust, period=date(2026, 3, 1))  # open in mid March
    with pytest.raises(CommandError, match=message):
        run(*args, "--send")
    assert not DivergenceReport.objects.exists()
    assert not ReportDelivery.objects.exists()
    assert mail.outbox == []


def test_the_period_is_required(unscoped):
    with pytest.raises(CommandError, match="--period"):
        run()
