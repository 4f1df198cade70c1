"""三员分立 (等保 2.0 三级, 访问控制 and 安全审计): what each of the three administrators may do, in one place.

- 系统管理员 `system_admin`: accounts (create, deactivate, reset a password), organisations, API tokens,
  and looking at the record and the system's own work (dossiers, exports, background tasks). Never the
  audit log, never roles or group membership.
- 安全管理员 `security_admin`: business roles (`RoleAssignment`), who holds which administrator role
  (group membership), unit heads, lockouts (django-axes: read, unlock), password states, second factors.
  Never creates an account, never reads the audit log.
- 审计管理员 `audit_admin`: reads and exports the audit log; nothing else.

A superuser counts as a system administrator only: `is_superuser` opens nothing else in the admin.
Nobody, through any interface, adds, changes or deletes an audit event; an attempt is refused and itself
audited (`security:audit_tamper_refused`). One person holds at most one of the three roles, and never
an administrator role together with a business role (B1).

The admin (`decisions/accounts/admin_site.py` applies `may` to every registered model), the services
below and `manage.py create_admin` all ask this module. Each change of a role (business role, unit head), a group,
an account's flags, a password, an API token or a second factor made by an administrator is a security event in
the audit chain, with the administrator as actor (never a key or a secret).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from decisions import audit
from decisions.accounts.policy import client_address

SYSTEM_ADMIN = "system_admin"
SECURITY_ADMIN = "security_admin"
AUDIT_ADMIN = "audit_admin"
ADMIN_ROLES = (SYSTEM_ADMIN, SECURITY_ADMIN, AUDIT_ADMIN)
LABELS = {
    SYSTEM_ADMIN: gettext_lazy("系统管理员"),
    SECURITY_ADMIN: gettext_lazy("安全管理员"),
    AUDIT_ADMIN: gettext_lazy("审计管理员"),
}

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
MODEL_ACTIONS = (VIEW, ADD, CHANGE, DELETE)  # the actions that are also Django model permissions
RESET_PASSWORD = "reset_password"  # set someone else's password (it must be changed at their next login)
EXPORT = "export"  # download the audit log (decisions/accounts/audit_export.py)

AUDIT_EVENT = "decisions.AuditEvent"

# Security events of administration (in the chain beside security:login …).
ROLE_GRANTED = "security:role_granted"
ROLE_REVOKED = "security:role_revoked"
GROUP_CHANGED = "security:group_changed"
USER_CREATED = "security:user_created"
USER_CHANGED = "security:user_changed"
PASSWORD_RESET = "security:password_reset"
LOCKOUT_CLEARED = "security:lockout_cleared"
TOKEN_ISSUED = "security:token_issued"
TOKEN_REVOKED = "security:token_revoked"
AUDIT_TAMPER_REFUSED = "security:audit_tamper_refused"

# The business role recorded (ROLE_GRANTED / ROLE_REVOKED) for a unit head (workflows.UnitHead, 单位负责人).
UNIT_HEAD = "unit_head"

_LOOK = frozenset({VIEW})

# What the system administrator looks at and never changes: the record (it changes only through the
# services, B10) and the system's own work.
_RECORD_AND_OPERATIONS = (
    "decisions.Decision",
    "decisions.DraftVersion",  # shown inside a decision's page
    "decisions.StageRecord",
    "decisions.Document",
    "decisions.SignOff",
    "decisions.Waiver",
    "decisions.CommentPeriod",
    "decisions.Hearing",
    "decisions.ExpertMember",
    "decisions.RiskAssessment",
    "decisions.LegalityReview",
    "decisions.Meeting",
    "decisions.AgendaItem",
    "decisions.MeetingStatement",
    "decisions.CollectiveOutcome",
    "decisions.PartyReport",
    "decisions.Publication",
    "decisions.Suspension",
    "decisions.DecisionAdjustment",
    "decisions.StopDecision",
    "decisions.PostEvaluation",
    "decisions.ImplementationClosure",
    "decisions.HandoverTask",
    "decisions.RuleProfile",
    "decisions.WorkingCalendarYear",
    "reports.Dossier",
    "reports.BundleExport",
    "viewflow.Process",
    "viewflow.Task",
    "django_tasks_database.DBTaskResult",
)

# model label → {administrator role → actions}. A model the admin shows must be named here: whatever is
# not named is refused to everyone (tests/decisions/test_admin_separation.py checks every registered model).
PERMITTED = {
    **{label: {SYSTEM_ADMIN: _LOOK} for label in _RECORD_AND_OPERATIONS},
    "auth.User": {
        SYSTEM_ADMIN: frozenset({VIEW, ADD, CHANGE, RESET_PASSWORD}),
        SECURITY_ADMIN: frozenset({VIEW, CHANGE}),  # group membership only (USER_FIELDS)
    },
    "auth.Group": {SECURITY_ADMIN: _LOOK},
    "authtoken.TokenProxy": {SYSTEM_ADMIN: frozenset({VIEW, ADD, DELETE})},
    "decisions.Organisation": {SYSTEM_ADMIN: frozenset({VIEW, ADD, CHANGE})},
    "juece_accounts.ExternalIdentity": {SYSTEM_ADMIN: frozenset({VIEW, ADD, CHANGE, DELETE})},
    "decisions.RoleAssignment": {SECURITY_ADMIN: frozenset({VIEW, ADD, CHANGE, DELETE})},
    "workflows.UnitHead": {SECURITY_ADMIN: frozenset({VIEW, ADD, CHANGE, DELETE})},
    "juece_accounts.PasswordState": {SECURITY_ADMIN: _LOOK},
    "axes.AccessAttempt": {SECURITY_ADMIN: frozenset({VIEW, DELETE})},  # deleting an attempt unlocks
    "axes.AccessLog": {SECURITY_ADMIN: _LOOK},
    "axes.AccessFailureLog": {SECURITY_ADMIN: _LOOK},
    "otp_totp.TOTPDevice": {SECURITY_ADMIN: frozenset({VIEW, DELETE})},  # removing a lost second factor
    "otp_static.StaticDevice": {SECURITY_ADMIN: frozenset({VIEW, DELETE})},
    "django_otp_webauthn.WebAuthnCredential": {SECURITY_ADMIN: frozenset({VIEW, DELETE})},
    AUDIT_EVENT: {AUDIT_ADMIN: frozenset({VIEW, EXPORT})},  # never add, change or delete: for nobody
}

# The fields of an account each role may edit in the admin; every other field is shown read-only.
# is_staff follows the administrator role (grant/revoke below); is_superuser and per-user permissions are
# set on the command line only (`createsuperuser`), never in the UI.
USER_FIELDS = {
    SYSTEM_ADMIN: frozenset({"username", "first_name", "last_name", "email", "is_active"}),
    SECURITY_ADMIN: frozenset({"groups"}),
}
# Account fields whose change is a security event (USER_CHANGED), and the flags reported with their values.
WATCHED_USER_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser")
FLAGS = ("is_active", "is_staff", "is_superuser")


class SeparationRefused(ValidationError):
    """A change that would break 三员分立: two administrator roles, or one with a business role."""


# -- who is who ------------------------------------------------------------------------------------------


def _label(model):
    return model if isinstance(model, str) else model._meta.label


def roles_held(account):
    """The administrator roles `account` holds: a superuser counts as system administrator, whatever their groups."""
    if account is None or not getattr(account, "pk", None):
        return set()
    held = {group.name for group in account.groups.all()} & set(ADMIN_ROLES)  # prefetched in the admin's list
    if account.is_superuser:
        held.add(SYSTEM_ADMIN)
    return held


def admin_role_of(user):
    """The one administrator role a signed-in `user` acts in, or None: none held, or (against the rules) more."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return SYSTEM_ADMIN  # a superuser is a system administrator only
    if not hasattr(user, "_juece_admin_role"):  # asked for every model of the admin index: once per request
        held = roles_held(user)
        user._juece_admin_role = held.pop() if len(held) == 1 else None
    return user._juece_admin_role


def _forget(user):
    if hasattr(user, "_juece_admin_role"):
        del user._juece_admin_role


def may(user, model, action):
    """Return True when `user` may take `action` (VIEW, ADD, CHANGE, DELETE, RESET_PASSWORD, EXPORT) on `model`."""
    role = admin_role_of(user)
    return role is not None and action in PERMITTED.get(_label(model), {}).get(role, ())


def may_see(user, model):
    """Return True when `user` has any business at all with `model` in the admin (its place on the index)."""
    role = admin_role_of(user)
    return role is not None and bool(PERMITTED.get(_label(model), {}).get(role))


def editable_user_fields(user):
    return USER_FIELDS.get(admin_role_of(user), frozenset())


def manages_account(actor, account):
    """Return True when `actor` may change or reset the password of `account`.

    A system administrator does not manage the account of a security or audit administrator: otherwise a
    password reset would let them sign in as the one who reads the audit log. Those accounts are looked
    after with `manage.py create_admin` by whoever runs the server, or after their role is revoked.
    """
    if account is None:
        return True
    if admin_role_of(actor) != SYSTEM_ADMIN:
        return True  # the role's own fields (USER_FIELDS) limit what it changes
    return not (roles_held(account) - {SYSTEM_ADMIN})


# -- the separation checks -------------------------------------------------------------------------------


def check_admin_roles(actor, account, roles):
    """Refuse (SeparationRefused) giving `account` exactly the administrator roles `roles`, for `actor`."""
    roles = set(roles)
    if account is not None and account.pk and actor is not None and actor.pk == account.pk:
        raise SeparationRefused(_("不能变更自己的管理员角色。"), code="own_role")
    if account is not None and account.is_superuser:
        roles.add(SYSTEM_ADMIN)
    if len(roles) > 1:
        names = "、".join(str(LABELS[role]) for role in ADMIN_ROLES if role in roles)
        raise SeparationRefused(
            _("同一人不能兼任两种管理员角色（%(roles)s）。超级用户视为系统管理员。") % {"roles": names},
            code="two_admin_roles",
        )
    if roles and account is not None and account.pk and account.role_assignments.exists():
        raise SeparationRefused(
            _("该用户担任业务角色，不能同时担任管理员角色；请先撤销其业务角色。"), code="admin_and_business"
        )


def check_business_role(actor, account):
    """Refuse (SeparationRefused) a business role for `account` when they hold an administrator role."""
    if account is not None and actor is not None and actor.pk == account.pk:
        raise SeparationRefused(_("不能给自己分配或变更业务角色。"), code="own_role")
    if roles_held(account):
        raise SeparationRefused(_("该用户担任管理员角色（三员），不能同时担任业务角色。"), code="admin_and_business")


def _require(actor, model, action):
    """Services called by a person check the role here; `actor` None is the command line (the server's operator)."""
    if actor is not None and not may(actor, model, action):
        raise PermissionDenied(_("您的管理员角色不允许此操作。"))


# -- security events -------------------------------------------------------------------------------------


def security_event(
    action, *, actor, request=None, target=None, object_type="", object_id="", result="success", **details
):
    """Append one security event done by `actor` (None: the command line) to the audit chain."""
    if target is not None:
        object_type = object_type or target._meta.label
        object_id = object_id or str(target.pk)
    payload = {"address": client_address(request), "result": result, **details}
    with transaction.atomic():
        return audit.append(
            actor=actor,
            role=(admin_role_of(actor) or "") if actor is not None else "",
            action=action,
            object_type=object_type,
            object_id=object_id,
            payload=payload,
        )


def refuse_audit_tamper(request, *, interface, object_id=""):
    """Audit an attempt to add, change or delete audit events through `interface` ("admin", "api"); the caller refuses it."""
    user = getattr(request, "user", None)
    actor = user if getattr(user, "is_authenticated", False) else None
    security_event(
        AUDIT_TAMPER_REFUSED,
        actor=actor,
        request=request,
        object_type=AUDIT_EVENT,
        object_id=str(object_id or ""),
        result="failure",
        interface=interface,
        method=request.method,
        path=request.path,
    )


# -- business roles (RoleAssignment, UnitHead) ---------------------------------------------------------


def _business_role_facts(held):
    """What a grant or revocation records of a RoleAssignment or a UnitHead (its role: UNIT_HEAD)."""
    return {
        "user": held.user.get_username(),
        "role": getattr(held, "role", UNIT_HEAD),
        "organisation": held.organisation.code or str(held.organisation_id),
    }


def _record_key(held):
    return "unit_head" if held._meta.label == "workflows.UnitHead" else "assignment"


def _save_business_role(actor, held, *, request, interface):
    """Create or change `held` (a RoleAssignment or UnitHead with unsaved changes), checked (B1) and audited.

    A change is recorded as the old role revoked and the new one granted.
    """
    model = type(held)
    adding = held.pk is None
    _require(actor, model, ADD if adding else CHANGE)
    check_business_role(actor, held.user)
    with transaction.atomic():
        previous = None if adding else model.objects.select_related("user", "organisation").get(pk=held.pk)
        if previous is not None and previous.user_id != held.user_id:
            check_business_role(actor, previous.user)
        held.save()
        if previous is not None and _business_role_facts(previous) == _business_role_facts(held):
            return held
        if previous is not None:
            security_event(
                ROLE_REVOKED,
                actor=actor,
                request=request,
                target=previous.user,
                interface=interface,
                **{_record_key(held): held.pk},
                **_business_role_facts(previous),
            )
        security_event(
            ROLE_GRANTED,
            actor=actor,
            request=request,
            target=held.user,
            interface=interface,
            **{_record_key(held): held.pk},
            **_business_role_facts(held),
        )
    return held


def _revoke_business_role(actor, held, *, request, interface):
    _require(actor, type(held), DELETE)
    if actor is not None and actor.pk == held.user_id:
        raise SeparationRefused(_("不能给自己分配或变更业务角色。"), code="own_role")
    with transaction.atomic():
        facts, key, pk, user = _business_role_facts(held), _record_key(held), held.pk, held.user
        held.delete()
        security_event(
            ROLE_REVOKED, actor=actor, request=request, target=user, interface=interface, **{key: pk}, **facts
        )


def save_assignment(actor, assignment, *, request=None, interface="service"):
    """Create or change the business role `assignment` (unsaved changes on it) and audit it."""
    return _save_business_role(actor, assignment, request=request, interface=interface)


def grant_role(actor, *, user, role, organisation, request=None, interface="service"):
    """Give `user` the business role `role` at `organisation` (B1); refused to anyone holding an administrator role."""
    from decisions.models import RoleAssignment

    return save_assignment(
        actor, RoleAssignment(user=user, role=role, organisation=organisation), request=request, interface=interface
    )


def revoke_role(actor, assignment, *, request=None, interface="service"):
    """Take the business role `assignment` away, and audit it."""
    _revoke_business_role(actor, assignment, request=request, interface=interface)


def save_unit_head(actor, head, *, request=None, interface="service"):
    """Make (or change) `head` a unit head (单位负责人, who receives escalated tasks): a business role like any other,
    so refused to an administrator (三员分立) and audited as ROLE_GRANTED / ROLE_REVOKED with the role UNIT_HEAD."""
    return _save_business_role(actor, head, request=request, interface=interface)


def remove_unit_head(actor, head, *, request=None, interface="service"):
    _revoke_business_role(actor, head, request=request, interface=interface)


# -- administrator roles (groups) ------------------------------------------------------------------------


def admin_group(role):
    group, _created = Group.objects.get_or_create(name=role)
    return group


def set_groups(actor, account, groups, *, request=None, interface="service"):
    """Make `groups` the groups of `account`; its administrator role follows (is_staff with it), audited."""
    _require(actor, get_user_model(), CHANGE)
    if actor is not None and admin_role_of(actor) != SECURITY_ADMIN:
        raise PermissionDenied(_("只有安全管理员可以变更组和管理员角色。"))
    groups = list(groups)
    new_names = {group.name for group in groups}
    with transaction.atomic():
        old_names = set(account.groups.values_list("name", flat=True))
        if new_names == old_names:
            return
        check_admin_roles(actor, account, new_names & set(ADMIN_ROLES))
        account.groups.set(groups)
        _forget(account)
        staff = bool(new_names & set(ADMIN_ROLES)) or account.is_superuser
        if account.is_staff != staff:
            account.is_staff = staff
            account.save(update_fields=["is_staff"])
        security_event(
            GROUP_CHANGED,
            actor=actor,
            request=request,
            target=account,
            interface=interface,
            user=account.get_username(),
            added=sorted(new_names - old_names),
            removed=sorted(old_names - new_names),
            is_staff=account.is_staff,
        )


def grant_admin_role(actor, account, role, *, request=None, interface="service"):
    """Give `account` the administrator role `role` (one of ADMIN_ROLES), keeping its other groups."""
    if role not in ADMIN_ROLES:
        raise ValueError(f"not an administrator role: {role}")
    set_groups(actor, account, [*account.groups.all(), admin_group(role)], request=request, interface=interface)


def revoke_admin_role(actor, account, role, *, request=None, interface="service"):
    set_groups(
        actor, account, [g for g in account.groups.all() if g.name != role], request=request, interface=interface
    )


# -- accounts --------------------------------------------------------------------------------------------


def account_created(actor, account, *, request=None, interface="service"):
    """Audit a new account made by `actor` (its first password is someone else's, so it must be changed)."""
    security_event(
        USER_CREATED,
        actor=actor,
        request=request,
        target=account,
        interface=interface,
        user=account.get_username(),
        **{flag: getattr(account, flag) for flag in FLAGS},
    )


def account_changed(actor, account, before, *, request=None, interface="service"):
    """Audit the watched fields of `account` that differ from `before` (field → old value); nothing if none did."""
    changed = sorted(name for name, old in before.items() if getattr(account, name) != old)
    if not changed:
        return
    flips = {name: {"from": before[name], "to": getattr(account, name)} for name in changed if name in FLAGS}
    security_event(
        USER_CHANGED,
        actor=actor,
        request=request,
        target=account,
        interface=interface,
        user=account.get_username(),
        changed=changed,
        **flips,
    )


def watched_fields(account):
    return {name: getattr(account, name) for name in WATCHED_USER_FIELDS}


def password_reset(actor, account, *, request=None, interface="service"):
    """Audit a password `actor` set for someone else (policy: set_by_owner stays False, so it must be changed)."""
    security_event(
        PASSWORD_RESET,
        actor=actor,
        request=request,
        target=account,
        interface=interface,
        user=account.get_username(),
        usable=account.has_usable_password(),
    )


def lockout_cleared(actor, attempts, *, request=None, interface="admin"):
    """Audit unlocking: the failed-login records (django-axes) of these usernames and addresses were removed."""
    security_event(
        LOCKOUT_CLEARED,
        actor=actor,
        request=request,
        object_type="axes.AccessAttempt",
        interface=interface,
        cleared=[{"username": a.username, "ip_address": a.ip_address} for a in attempts],
    )


# -- API tokens and second factors -------------------------------------------------------------------------


def issue_token(actor, token, *, request=None, interface="service"):
    """Save the new API token `token` (DRF's; its key is made on save) for its user, and audit it (never the key)."""
    from rest_framework.authtoken.models import TokenProxy

    _require(actor, TokenProxy, ADD)
    with transaction.atomic():
        token.save()
        security_event(
            TOKEN_ISSUED,
            actor=actor,
            request=request,
            target=token.user,
            interface=interface,
            user=token.user.get_username(),
        )
    return token


def revoke_token(actor, token, *, request=None, interface="service"):
    """Delete the API token `token`: the system using it is signed out at its next request. Audited (never the key)."""
    from rest_framework.authtoken.models import TokenProxy

    _require(actor, TokenProxy, DELETE)
    with transaction.atomic():
        user = token.user
        token.delete()
        security_event(
            TOKEN_REVOKED, actor=actor, request=request, target=user, interface=interface, user=user.get_username()
        )


def remove_second_factor(actor, device, *, request=None, interface="service"):
    """Remove someone's second-factor device (a lost phone or key), recorded as the holder's own removal is (MFA_REMOVE).

    The holder's last device may go: at the next sign-in they enrol a new one (mfa.pending) when the deployment
    requires a second factor.
    """
    from decisions.accounts import mfa

    _require(actor, type(device), DELETE)
    with transaction.atomic():
        persistent_id, owner, method = device.persistent_id, device.user, mfa.method_of(device)
        device.delete()
        security_event(
            mfa.MFA_REMOVE,
            actor=actor,
            request=request,
            target=owner,
            interface=interface,
            user=owner.get_username(),
            method=method,
            device=persistent_id,
        )


# -- the groups' Django permissions ----------------------------------------------------------------------


def sync_group_permissions(using="default"):
    """Give each administrator group exactly the model permissions PERMITTED names (after every migrate).

    The admin asks `may` first, so these only keep `user.has_perm` in step for everything else.
    """
    from django.apps import apps

    for role in ADMIN_ROLES:
        wanted = []
        for label, by_role in PERMITTED.items():
            actions = by_role.get(role, ())
            try:
                model = apps.get_model(label)
            except LookupError:  # an optional app (a second factor's devices) that is not installed
                continue
            content_type = ContentType.objects.db_manager(using).get_for_model(model, for_concrete_model=False)
            codenames = [f"{action}_{model._meta.model_name}" for action in actions if action in MODEL_ACTIONS]
            wanted += Permission.objects.using(using).filter(content_type=content_type, codename__in=codenames)
        group, _created = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(wanted)
