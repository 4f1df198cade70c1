from django.db import migrations


def load_profiles(apps, schema_editor):
    from decisions import profiles

    profiles.load(apps)


class Migration(migrations.Migration):
    dependencies = [("decisions", "0001_initial")]

    operations = [migrations.RunPython(load_profiles, migrations.RunPython.noop)]
