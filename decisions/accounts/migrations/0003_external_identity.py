import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("juece_accounts", "0002_existing_accounts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ExternalIdentity",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("provider", models.CharField(max_length=32, verbose_name="身份提供方")),
                ("subject", models.CharField(max_length=255, verbose_name="外部账号标识")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="关联时间")),
                ("last_login_at", models.DateTimeField(blank=True, null=True, verbose_name="最近登录时间")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="external_identities",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="用户",
                    ),
                ),
            ],
            options={
                "verbose_name": "外部身份",
                "verbose_name_plural": "外部身份",
                "ordering": ["provider", "subject"],
                "constraints": [
                    models.UniqueConstraint(fields=("provider", "subject"), name="juece_external_identity_unique")
                ],
            },
        ),
    ]
