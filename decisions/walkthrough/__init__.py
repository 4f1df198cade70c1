"""Drive decisions along the procedure through the service layer: used by seed_demo and the tests.

Nothing here bypasses a rule: every step is a service call by a user in the right
role, with the records the rules ask for. Each area module exposes functions that
take a decision from one state to the next; `Cast` holds the people of one organ.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from decisions.accounts.policy import mark_as_changed
from decisions.models import DocumentType, Organisation, Role, RoleAssignment
from decisions.services.common import Upload


def pdf_bytes(text="juece"):
    """Return a small, valid one-page PDF whose content names `text` (ASCII only)."""
    safe = "".join(ch if 32 <= ord(ch) < 127 and ch not in "()\\" else "?" for ch in text)[:80]
    stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def doc(doc_type, title=None, **flags):
    """Return an Upload of a small PDF standing for one record of `doc_type`."""
    name = f"{doc_type.lower()}.pdf"
    return Upload(
        doc_type=doc_type,
        name=name,
        content=pdf_bytes(f"{doc_type} {title or ''}"),
        title=title or str(DocumentType(doc_type).label),
        **flags,
    )


@dataclass
class Cast:
    """One decision organ with its units and one user per role."""

    organ: Organisation
    office: Organisation
    justice: Organisation
    lead_unit: Organisation
    co_units: list
    third_party: Organisation
    users: dict = field(default_factory=dict)  # role -> user
    extra: dict = field(default_factory=dict)  # name -> user (second approver, meeting members …)

    def __getitem__(self, role):
        return self.users[role]


def _user(username, display_name, password=None):
    User = get_user_model()
    # A demo address on the reserved example domain, so that reminders (workflows/timers.py) have somewhere to go.
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": display_name, "email": f"{username}@example.gov.cn"}
    )
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        if password:
            # Demo and test logins start working at once: their password counts as the holder's own (身份鉴别).
            mark_as_changed(user)
    return user


def _assign(user, organisation, role):
    RoleAssignment.objects.get_or_create(user=user, organisation=organisation, role=role)
    return user


def _org(code, name, kind, level, parent=None, **extra):
    org, _ = Organisation.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "level": level, "parent": parent, **extra}
    )
    return org


def build_cast(
    code="hz",
    name="湖州市人民政府",
    level=Organisation.Level.CITY,
    profile="huzhou",
    parent=None,
    password=None,
    members=6,
    unit_names=None,
):
    """Create (or find) an organ, its office, justice bureau, units, and a user for every role."""
    G, D, OTHER = Organisation.Kind.GOVERNMENT, Organisation.Kind.DEPARTMENT, Organisation.Kind.OTHER
    organ = _org(code, name, G, level, parent, profile_code=profile, meeting_members_total=members)
    short = name.replace("人民政府", "")
    office = _org(f"{code}-office", f"{short}人民政府办公室", D, level, organ)
    justice = _org(f"{code}-justice", f"{short}司法局", D, level, organ)
    if organ.legality_review_dept_id is None:
        organ.legality_review_dept = justice
        organ.save(update_fields=["legality_review_dept"])
    units = unit_names or [
        ("dev", f"{short}发展和改革委员会"),
        ("eco", f"{short}生态环境局"),
        ("trans", f"{short}交通运输局"),
    ]
    lead, *co = [_org(f"{code}-{c}", n, D, level, organ) for c, n in units]
    third = _org(f"{code}-thinktank", f"{short}社会稳定风险评估中心(第三方)", OTHER, level, organ)
    cast = Cast(organ=organ, office=office, justice=justice, lead_unit=lead, co_units=co, third_party=third)

    def person(role, org, suffix=""):
        user = _user(f"{code}_{role.lower()}{suffix}", f"{short}{Role(role).label}{suffix}", password)
        return _assign(user, org, role)

    for role in (Role.GOV_OFFICE, Role.CHIEF, Role.MEETING_MEMBER, Role.PARTY_LIAISON, Role.ARCHIVIST):
        cast.users[role] = person(role, organ)
    cast.users[Role.UNDERTAKING_LEAD] = person(Role.UNDERTAKING_LEAD, lead)
    cast.users[Role.UNDERTAKING_CO] = person(Role.UNDERTAKING_CO, co[0]) if co else None
    cast.users[Role.HEARING_ORG] = person(Role.HEARING_ORG, lead)
    cast.users[Role.LEGAL_REVIEWER] = person(Role.LEGAL_REVIEWER, justice)
    cast.users[Role.LEGAL_ADVISER] = person(Role.LEGAL_ADVISER, justice)
    cast.users[Role.RISK_ASSESSOR] = person(Role.RISK_ASSESSOR, third)
    cast.users[Role.EXPERT] = person(Role.EXPERT, third)
    cast.users[Role.EXECUTOR] = person(Role.EXECUTOR, lead)
    cast.users[Role.POST_EVALUATOR] = person(Role.POST_EVALUATOR, co[-1] if co else third)
    cast.users[Role.SUPERVISOR] = person(Role.SUPERVISOR, organ)
    # A second office user approves what the first recorded (P12: approver ≠ recorder).
    cast.extra["gov_office_2"] = person(Role.GOV_OFFICE, organ, "2")
    # Meeting members: the chief plus members - 1 others (第三十条).
    cast.extra["members"] = [cast.users[Role.MEETING_MEMBER]] + [
        person(Role.MEETING_MEMBER, organ, str(i)) for i in range(2, members)
    ]
    return cast
