from django.db import migrations


def load_working_calendar(apps, schema_editor):
    from decisions import calendar

    calendar.load_shipped(apps)


class Migration(migrations.Migration):
    dependencies = [("decisions", "0002_load_rule_profiles")]

    operations = [migrations.RunPython(load_working_calendar, migrations.RunPython.noop)]
