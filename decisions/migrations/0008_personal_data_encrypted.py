"""Personal data encrypted at rest (issue 7): commenters' and hearing participants' phone, e-mail, ID number.

The comments' columns become text holding crypto tokens; the rows already there are encrypted in place with
the current profile and the data key (read and written through a raw cursor, so nothing tries to open a
plain value as a token). Reversible: going back opens every token and writes the plain value again.
"""

from django.db import migrations

import decisions.fields

CONTACT_FIELDS = ("phone", "email", "id_number")


def _rewrite(apps, schema_editor, change):
    """Rewrite each non-empty contact value of every comment with `change(field, stored)`."""
    Comment = apps.get_model("decisions", "Comment")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote(Comment._meta.db_table)
    fields = [Comment._meta.get_field(name) for name in CONTACT_FIELDS]
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {columns} FROM {table}")
        rows = cursor.fetchall()
        for pk, *stored in rows:
            changed = [change(field, value) for field, value in zip(fields, stored, strict=True)]
            if changed != stored:
                assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
                cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*changed, pk])


def _is_token(value):
    return str(value).startswith("juece-enc/1:")


def encrypt_existing(apps, schema_editor):
    _rewrite(
        apps,
        schema_editor,
        lambda field, value: value if not value or _is_token(value) else field.encrypt_value(value),
    )


def decrypt_existing(apps, schema_editor):
    _rewrite(
        apps,
        schema_editor,
        lambda field, value: field.decrypt_value(value) if value and _is_token(value) else value,
    )


class Migration(migrations.Migration):
    dependencies = [("decisions", "0007_chainhead_algorithm")]

    operations = [
        migrations.AlterField(
            model_name="comment",
            name="phone",
            field=decisions.fields.EncryptedTextField(blank=True, verbose_name="联系电话"),
        ),
        migrations.AlterField(
            model_name="comment",
            name="email",
            field=decisions.fields.EncryptedTextField(blank=True, verbose_name="电子邮箱"),
        ),
        migrations.AlterField(
            model_name="comment",
            name="id_number",
            field=decisions.fields.EncryptedTextField(blank=True, verbose_name="身份证号"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
        migrations.AddField(
            model_name="hearingparticipant",
            name="phone",
            field=decisions.fields.EncryptedTextField(blank=True, default="", verbose_name="联系电话"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="hearingparticipant",
            name="email",
            field=decisions.fields.EncryptedTextField(blank=True, default="", verbose_name="电子邮箱"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="hearingparticipant",
            name="id_number",
            field=decisions.fields.EncryptedTextField(blank=True, default="", verbose_name="身份证号"),
            preserve_default=False,
        ),
    ]
