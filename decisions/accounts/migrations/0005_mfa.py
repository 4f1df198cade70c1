from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("juece_accounts", "0004_admin_roles")]

    operations = []
