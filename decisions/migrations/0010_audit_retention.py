import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0009_signoff_signatures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditArchive",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("first_seq", models.PositiveBigIntegerField(unique=True)),
                ("last_seq", models.PositiveBigIntegerField(unique=True)),
                ("event_count", models.PositiveBigIntegerField()),
                ("prev_mac", models.CharField(max_length=128)),
                ("last_mac", models.CharField(max_length=128)),
                ("until", models.DateTimeField(verbose_name="截至")),
                ("sha256", models.CharField(max_length=64)),
                ("sm3", models.CharField(max_length=64)),
                ("file", models.FileField(max_length=255, upload_to="", verbose_name="归档文件")),
                ("manifest", models.FileField(max_length=255, upload_to="", verbose_name="清单")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "审计归档",
                "verbose_name_plural": "审计归档",
                "ordering": ["first_seq"],
            },
        ),
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("first_seq", models.PositiveBigIntegerField(unique=True)),
                ("seq", models.PositiveBigIntegerField(unique=True)),
                ("mac", models.CharField(max_length=128)),
                ("algorithm", models.CharField(max_length=20)),
                ("anchor_mac", models.CharField(max_length=128)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "archive",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="anchors",
                        to="decisions.auditarchive",
                    ),
                ),
            ],
            options={
                "verbose_name": "审计锚点",
                "verbose_name_plural": "审计锚点",
                "ordering": ["first_seq"],
            },
        ),
    ]
