"""Record seals (decisions/seals.py, issue 7): a document's SM3 and a keyed MAC on documents, issued legality
opinions, collective decisions and publications. Existing rows keep empty seals: `verify_audit` reports them as
sealed before seals existed, never as failures."""

from django.db import migrations, models


def _seal_fields(model_name):
    return [
        migrations.AddField(
            model_name=model_name, name="record_mac", field=models.CharField(blank=True, max_length=128)
        ),
        migrations.AddField(
            model_name=model_name, name="record_mac_algorithm", field=models.CharField(blank=True, max_length=20)
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [("decisions", "0010_audit_retention")]

    operations = [
        migrations.AddField(
            model_name="document", name="digest_sm3", field=models.CharField(blank=True, max_length=64)
        ),
        *_seal_fields("document"),
        *_seal_fields("legalityreview"),
        *_seal_fields("collectiveoutcome"),
        *_seal_fields("publication"),
    ]
