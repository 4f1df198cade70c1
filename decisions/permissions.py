"""Who may do what: the one gate every service passes before it touches a decision (B1).

django-fsm's `permission=` is not enforced on a plain call, so services call
`require_role()` themselves. A role is held at an organisation; whether it counts
for a decision depends on how that organisation stands to the decision.
"""

from django.db.models import Q

from decisions.models import Role, RoleAssignment
from decisions.rules import Failure, ProcedureRefused, Rule

# Roles whose holder acts for the decision organ itself.
ORGAN_ROLES = {Role.GOV_OFFICE, Role.CHIEF, Role.MEETING_MEMBER, Role.PARTY_LIAISON, Role.ARCHIVIST}
# Roles held by bodies the organ engages: its departments or outside bodies registered under it.
ENGAGED_ROLES = {Role.LEGAL_ADVISER, Role.RISK_ASSESSOR, Role.EXPERT, Role.POST_EVALUATOR, Role.HEARING_ORG}


class NotPermitted(ProcedureRefused):
    """The acting user holds none of the roles the step needs for this decision."""


def not_permitted(roles, detail=""):
    names = "、".join(str(Role(r).label) for r in roles if r in Role.values) or "系统"
    rule = Rule(
        name="ROLE_NOT_PERMITTED",
        code="ROLE_NOT_PERMITTED",
        article="B1",
        zh=f"当前用户无权办理此事项(需要：{names})",
        en=f"You hold no role that may take this step (needed: {', '.join(roles)})",
        check=lambda ctx: False,
    )
    return NotPermitted([Failure(rule, detail)])


def _within(org, organ):
    """Return True if `org` is the organ, one of its departments, or a body registered under it."""
    return org.id == organ.id or org.parent_id == organ.id or org.parent_id == organ.legality_review_dept_id


def role_counts_for(assignment, decision):
    """Return True if a role assignment counts for acting on `decision`."""
    org, organ, role = assignment.organisation, decision.organ, assignment.role
    if role in ORGAN_ROLES:
        return org.id == organ.id
    if role == Role.UNDERTAKING_LEAD:
        if decision.lead_unit_id:
            return org.id == decision.lead_unit_id
        return org.parent_id == organ.id  # before a lead unit is named: a department of the organ
    if role == Role.UNDERTAKING_CO:
        return decision.co_units.filter(pk=org.pk).exists()
    if role == Role.LEGAL_REVIEWER:
        return org.id == organ.legality_review_dept_id
    if role == Role.EXECUTOR:
        return org.id == decision.executor_id if decision.executor_id else _within(org, organ)
    if role in ENGAGED_ROLES:
        return _within(org, organ)
    if role == Role.SUPERVISOR:
        return org.id == organ.id or org in organ.ancestors()
    return False


def roles_for(user, decision):
    """Return the set of roles `user` holds for `decision`."""
    if user is None or not user.is_authenticated:
        return set()
    assignments = RoleAssignment.objects.filter(user=user).select_related("organisation")
    return {a.role for a in assignments if role_counts_for(a, decision)}


def _counts_where(role, org):
    """The decisions for which a role held at `org` counts, as a filter: the same cases as role_counts_for."""
    within = Q(organ=org)
    if org.parent_id is not None:
        within |= Q(organ=org.parent_id) | Q(organ__legality_review_dept=org.parent_id)
    if role in ORGAN_ROLES:
        return Q(organ=org)
    if role == Role.UNDERTAKING_LEAD:
        return Q(lead_unit=org) | Q(lead_unit__isnull=True, organ=org.parent_id)
    if role == Role.UNDERTAKING_CO:
        return Q(co_units=org)
    if role == Role.LEGAL_REVIEWER:
        return Q(organ__legality_review_dept=org)
    if role == Role.EXECUTOR:
        return Q(executor=org) | (Q(executor__isnull=True) & within)
    if role in ENGAGED_ROLES:
        return within
    if role == Role.SUPERVISOR:
        # The organ itself or any government above it (a province reads its cities' counties).
        return Q(organ=org) | Q(organ__parent=org) | Q(organ__parent__parent=org) | Q(organ__parent__parent__parent=org)
    return Q(pk__in=[])


def visible_decisions(user, queryset=None):
    """Return the decisions for which `user` holds any role (one query for the assignments, one filter)."""
    from decisions.models import Decision

    queryset = Decision.objects.all() if queryset is None else queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    where = Q(pk__in=[])
    for assignment in RoleAssignment.objects.filter(user=user).select_related("organisation"):
        where |= _counts_where(assignment.role, assignment.organisation)
    return queryset.filter(where).distinct()


def task_anchor(role, decision):
    """Return the organisation whose holders of `role` do the decision's work in that role (who a task goes to).

    The same cases as role_counts_for: the organ for its own roles and for the bodies it engages (anyone
    registered within it), the lead unit, the legality review department, the executing unit. None when
    nobody holds that place yet (no lead unit before T4, no executor before T23).
    """
    if role in ORGAN_ROLES or role in ENGAGED_ROLES:
        return decision.organ
    if role == Role.UNDERTAKING_LEAD:
        return decision.lead_unit
    if role == Role.LEGAL_REVIEWER:
        return decision.organ.legality_review_dept
    if role == Role.EXECUTOR:
        return decision.executor
    return None


def anchors_of(assignment):
    """Return the ids of the organisations a role assignment answers for as a task anchor (see task_anchor)."""
    role, org = assignment.role, assignment.organisation
    if role in ENGAGED_ROLES:
        from decisions.models import Organisation

        anchors = {org.pk}
        if org.parent_id is not None:
            anchors.add(org.parent_id)
            anchors |= set(Organisation.objects.filter(legality_review_dept=org.parent_id).values_list("pk", flat=True))
        return anchors
    if role in ORGAN_ROLES or role in (Role.UNDERTAKING_LEAD, Role.LEGAL_REVIEWER, Role.EXECUTOR):
        return {org.pk}
    return set()


def require_role(user, decision, allowed):
    """Return the first role in `allowed` that `user` holds for `decision`, or raise NotPermitted."""
    held = roles_for(user, decision)
    for role in allowed:
        if role in held:
            return role
    raise not_permitted(allowed)


def organ_roles_for(user, organ):
    """Return the set of roles `user` holds for acting at `organ` before (or apart from) any one decision.

    Organ roles (office, chief, party liaison …) and SUPERVISOR count only where held at the organ itself;
    a unit's roles count when held at one of the organ's departments or registered bodies.
    """
    if user is None or not user.is_authenticated:
        return set()
    assignments = RoleAssignment.objects.filter(user=user).filter(Q(organisation=organ) | Q(organisation__parent=organ))
    return {
        a.role
        for a in assignments
        if (a.organisation_id == organ.pk) == (a.role in ORGAN_ROLES or a.role == Role.SUPERVISOR)
    }


def require_organ_role(user, organ, allowed):
    """Return the first role in `allowed` that `user` holds for `organ` (before a decision exists), or raise."""
    if user is None or not user.is_authenticated:
        if Role.PUBLIC in allowed:
            return Role.PUBLIC
        raise not_permitted(allowed)
    held = organ_roles_for(user, organ)
    for role in allowed:
        if role in held or role == Role.PUBLIC:
            return role
    raise not_permitted(allowed)


def readable_decision(user, reference, queryset=None):
    """Return (decision, roles) for a reader of the decision: the gate of its page and of the API.

    Http404 if there is no such decision; PermissionDenied if `user` holds no role that counts for it.
    """
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import get_object_or_404
    from django.utils.translation import gettext

    from decisions.models import Decision

    queryset = Decision.objects.all() if queryset is None else queryset
    decision = get_object_or_404(
        queryset.select_related("organ", "profile", "lead_unit", "executor", "in_force_version"),
        reference=reference,
    )
    roles = roles_for(user, decision)
    if not roles:
        raise PermissionDenied(gettext("无权查看该决策事项 (you hold no role for this decision)"))
    return decision, roles
