"""seed_demo builds a valid demo through the services, once, and prints the logins."""

from collections import Counter

from django.core.management import call_command

from decisions import audit
from decisions.models import Decision, Role, RoleAssignment


def test_seed_demo_puts_a_decision_at_each_stage_and_running_it_again_changes_nothing(db, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    states = Counter(Decision.objects.values_list("state", flat=True))
    assert Decision.objects.filter(organ__code="hz").count() == 12
    assert {
        "LISTED",
        "INITIATED",
        "DRAFTING",
        "CONSULTATION",
        "LEGAL_REVIEW_IN_PROGRESS",
        "READY_FOR_MEETING",
        "SCHEDULED",
        "DECIDED",
        "IMPLEMENTING",
        "REJECTED",
        "WITHDRAWN",
    } <= set(states)
    # At each of the five procedures: PP, EX and RA in progress inside CONSULTATION, LR, CD.
    open_substages = {
        record.stage
        for d in Decision.objects.filter(state="CONSULTATION")
        for record in d.stage_records.filter(status="IN_PROGRESS", superseded_by__isnull=True)
    }
    assert {"PP", "EX", "RA"} <= open_substages
    waived = Decision.objects.get(title="湖州市人民防空工程布局专项规划").current_record("PP")
    assert waived.status == "WAIVED" and waived.waivers.get().approved_by is not None
    assert audit.verify().ok
    # Every role has a login in the city, and the logins are printed.
    city_roles = set(RoleAssignment.objects.filter(user__username__startswith="hz_").values_list("role", flat=True))
    assert city_roles >= set(Role.values) - {Role.PUBLIC}
    assert "hz_gov_office" in out and "Juece-Demo-2026" in out

    events = audit.verify().checked
    call_command("seed_demo")
    assert "nothing changed" in capsys.readouterr().out
    assert audit.verify().checked == events
