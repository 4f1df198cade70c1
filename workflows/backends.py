"""Task permissions from the roles people hold (B1), for viewflow's queue and task checks.

A decision's task for a role goes to the organisation that does that part of its work
(`decisions.permissions.task_anchor`): its permission is `workflows.work_<role>_<organisation id>`.
This backend gives a user exactly the permissions of the role assignments they hold
(`decisions.permissions.anchors_of`), so viewflow's own queue, assign and execute checks follow
the same gate as the services. Everyone holding a role may see the decision processes.
"""

from django.contrib.auth.backends import BaseBackend

from decisions.models import RoleAssignment
from decisions.permissions import anchors_of

VIEW_PROCESSES = "workflows.view_decisionprocess"


def work_permission(role, organisation_id):
    """Return the permission a task of `role` anchored at an organisation asks for."""
    return f"workflows.work_{role.lower()}_{organisation_id}"


class RoleTaskBackend(BaseBackend):
    """Grant `workflows.work_<role>_<org>` for each role a user holds, and the right to see processes."""

    def _permissions(self, user):
        if not user.is_active or user.is_anonymous:
            return set()
        cached = getattr(user, "_juece_task_perms", None)
        if cached is None:
            cached = set()
            for assignment in RoleAssignment.objects.filter(user=user).select_related("organisation"):
                cached |= {work_permission(assignment.role, anchor) for anchor in anchors_of(assignment)}
            if cached or RoleAssignment.objects.filter(user=user).exists():
                cached.add(VIEW_PROCESSES)
            user._juece_task_perms = cached
        return cached

    def get_all_permissions(self, user, obj=None):
        return self._permissions(user)

    def has_perm(self, user, perm, obj=None):
        return perm in self._permissions(user)
