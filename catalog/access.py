"""Who may see which catalogue (jurisdiction, 属地管理).

Acting on a catalogue is gated by the services (`decisions.permissions.require_organ_role`
with the roles of each B9 step): only the organ's own office, party liaison or legality
review department can move it. Reading is wider, and decided here once for pages, exports
and commands:

* anyone holding a role at the organ, or at one of its departments or registered bodies,
  reads the organ's catalogues (a unit sees the catalogue it works under);
* the office (GOV_OFFICE) and the supervisors (SUPERVISOR) of a higher government read the
  catalogues of every government below it, read-only (the city supervises its counties);
* everyone else, the public included, sees only what is published (catalog/public views).
"""

from django.db.models import Q

from catalog.models import AnnualCatalogue
from decisions.models import Organisation, Role, RoleAssignment
from decisions.permissions import organ_roles_for

# Roles of a higher government that oversee the governments below it (read-only).
OVERSIGHT_ROLES = (Role.GOV_OFFICE, Role.SUPERVISOR)


def governments_below(organ_ids):
    """Return the ids of every government under the given organs (children, grandchildren …), in a few queries."""
    found, frontier = set(), set(organ_ids)
    while frontier:
        children = set(
            Organisation.objects.filter(parent_id__in=frontier, kind=Organisation.Kind.GOVERNMENT).values_list(
                "pk", flat=True
            )
        )
        frontier = children - found
        found |= children
    return found


def readable_organ_ids(user):
    """Return the ids of the organs whose catalogues `user` may read (empty for the anonymous public)."""
    if user is None or not user.is_authenticated:
        return set()
    organs, overseen = set(), set()
    for organisation_id, parent_id, kind, role in RoleAssignment.objects.filter(user=user).values_list(
        "organisation_id", "organisation__parent_id", "organisation__kind", "role"
    ):
        if kind == Organisation.Kind.GOVERNMENT:
            organs.add(organisation_id)
            if role in OVERSIGHT_ROLES:
                overseen.add(organisation_id)
        elif parent_id is not None:
            organs.add(parent_id)  # a department or registered body works under its government
    return organs | governments_below(overseen)


def visible_catalogues(user):
    """Return the catalogues `user` may read in the staff pages."""
    return AnnualCatalogue.objects.filter(organ_id__in=readable_organ_ids(user))


def can_read(user, catalogue):
    return catalogue.organ_id in readable_organ_ids(user)


def acting_roles(user, organ):
    """Return the roles `user` may act in at `organ` (those the services' gate accepts)."""
    return organ_roles_for(user, organ)


def offices_of(user):
    """Return the governments where `user` holds GOV_OFFICE (where a catalogue may be opened)."""
    if user is None or not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(
        Q(role_assignments__user=user, role_assignments__role=Role.GOV_OFFICE), kind=Organisation.Kind.GOVERNMENT
    ).distinct()
