"""Create one of the three administrators (三员分立) with a first password that must be changed at the first login.

    manage.py create_admin USERNAME --role system_admin|security_admin|audit_admin [--email E] [--password-stdin]
    manage.py create_admin USERNAME --reset-password   (a new first password for an existing administrator)

Without --password-stdin a strong password is generated and printed once. The password is the operator's,
not the holder's, so the password policy makes the holder replace it at their first login (policy.py). The
account, its role and a reset are security events in the audit chain, with no actor: the server's operator.
"""

import secrets
import string
import sys

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from decisions.accounts import admin_roles

GENERATED_LENGTH = 20


def generated_password():
    """A random password with every kind of character the complexity rule asks for."""
    kinds = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#$%^&*-_=+?")
    length = max(GENERATED_LENGTH, settings.JUECE_PASSWORD_MIN_LENGTH)
    chosen = [secrets.choice(kind) for kind in kinds]
    everything = "".join(kinds)
    chosen += [secrets.choice(everything) for _ in range(length - len(chosen))]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)


class Command(BaseCommand):
    help = "Create a system, security or audit administrator (三员分立) whose first password must be changed."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=admin_roles.ADMIN_ROLES, help="the administrator role")
        parser.add_argument("--email", default="")
        parser.add_argument("--password-stdin", action="store_true", help="read the first password from stdin")
        parser.add_argument(
            "--reset-password", action="store_true", help="give an existing administrator a new first password"
        )

    def handle(self, *args, username, role, email, password_stdin, reset_password, **options):
        User = get_user_model()
        existing = User.objects.filter(username=username).first()
        if reset_password:
            if existing is None or not admin_roles.roles_held(existing):
                raise CommandError(f"no administrator named {username}")
        elif existing is not None:
            raise CommandError(f"a user named {username} exists already")
        elif role is None:
            raise CommandError("--role is required: " + ", ".join(admin_roles.ADMIN_ROLES))
        password = sys.stdin.readline().rstrip("\n") if password_stdin else generated_password()
        account = existing or User(username=username, email=email)
        try:
            password_validation.validate_password(password, account)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        with transaction.atomic():
            account.set_password(password)  # someone else's password: PasswordState.set_by_owner stays False
            account.save()
            if reset_password:
                admin_roles.password_reset(None, account, interface="command")
            else:
                admin_roles.account_created(None, account, interface="command")
                admin_roles.grant_admin_role(None, account, role, interface="command")
        roles = "、".join(str(admin_roles.LABELS[held]) for held in sorted(admin_roles.roles_held(account)))
        self.stdout.write(self.style.SUCCESS(f"{username}: {roles}"))
        if not password_stdin:
            self.stdout.write(f"首次口令 first password (shown once, must be changed at the first login): {password}")
