"""An index on viewflow's tasks by the permission that queues them.

The inbox's "本单位待认领" list asks for the open tasks of the user's units (`owner_permission`). viewflow indexes
the owner but not the permission, so that list scanned every task of the province: its cost grew with all
governments' work instead of one unit's. viewflow's models are not ours to change, so the index is added here,
with the backend's own DDL (no hand-written SQL: the same migration runs on SQLite, PostgreSQL and its 信创 kin).
"""

from django.db import migrations, models

INDEX = models.Index(fields=["owner_permission", "status"], name="juece_task_queue_idx")


def add_index(apps, schema_editor):
    schema_editor.add_index(apps.get_model("viewflow", "Task"), INDEX)


def remove_index(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("viewflow", "Task"), INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0001_decision_process"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [migrations.RunPython(add_index, remove_index)]
