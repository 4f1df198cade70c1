import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("decisions", "0008_personal_data_encrypted"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SigningKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("algorithm", models.CharField(max_length=20, verbose_name="签名算法")),
                ("public_key", models.TextField(verbose_name="公钥")),
                ("fingerprint", models.CharField(max_length=64, unique=True, verbose_name="公钥指纹")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="登记时间")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="吊销时间")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="signing_keys",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "签名公钥",
                "verbose_name_plural": "签名公钥",
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("revoked_at__isnull", True)),
                        fields=("user", "algorithm"),
                        name="one_active_signing_key_per_algorithm",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="signoff",
            name="content_sm3",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="signoff",
            name="record_mac",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name="signoff",
            name="record_mac_algorithm",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="signoff",
            name="signature",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="signoff",
            name="signature_algorithm",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="signoff",
            name="signer_public_key",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="signoff",
            name="signing_key",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="signoffs",
                to="decisions.signingkey",
            ),
        ),
    ]
