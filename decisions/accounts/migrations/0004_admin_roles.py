"""三员分立: the groups of the three administrators (decisions/accounts/admin_roles.py).

系统管理员 system_admin, 安全管理员 security_admin, 审计管理员 audit_admin. Their model permissions are given
after every migrate from admin_roles.PERMITTED (admin_site.sync_admin_groups): permissions of apps migrated
later do not exist yet while this runs.
"""

from django.db import migrations

ADMIN_ROLES = ("system_admin", "security_admin", "audit_admin")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ADMIN_ROLES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ADMIN_ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("juece_accounts", "0003_external_identity"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
