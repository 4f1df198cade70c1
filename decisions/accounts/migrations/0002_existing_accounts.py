"""Accounts that existed before the password policy: their password's age is counted from now."""

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import migrations
from django.utils import timezone


def start_counting(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    PasswordState = apps.get_model("juece_accounts", "PasswordState")
    now = timezone.now()
    users = User.objects.exclude(password="").exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
    PasswordState.objects.bulk_create(
        [PasswordState(user_id=pk, changed_at=now, set_by_owner=True) for pk in users.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("juece_accounts", "0001_initial"), migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [migrations.RunPython(start_counting, migrations.RunPython.noop)]
