"""The Django admin shows the record and offers no way to change it (B10)."""

from django.contrib.auth import get_user_model

from decisions.models import AuditEvent, Decision
from decisions.walkthrough import initiation as walk


def test_the_admin_lists_decisions_and_their_audit_trail_read_only(client, open_cast):
    decision = walk.initiate(open_cast, walk.propose(open_cast))
    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    listing = client.get("/admin/decisions/decision/")
    assert listing.status_code == 200
    assert decision.reference in listing.content.decode()
    detail = client.get(f"/admin/decisions/decision/{decision.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # no save button: read-only
    assert client.get("/admin/decisions/decision/add/").status_code == 403
    event = AuditEvent.objects.filter(decision_id_ref=decision.pk).first()
    assert client.post(f"/admin/decisions/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert Decision.objects.get(pk=decision.pk).state == "INITIATED"
