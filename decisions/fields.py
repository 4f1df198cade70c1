"""Model fields whose values are encrypted at rest (密评, GB/T 39786-2021 §8.4: 重要数据存储机密性; 个人信息保护法).

`EncryptedTextField` stores each non-empty value as a token of decisions.crypto (`juece-enc/1:<algorithm>:…`):
made with the cipher of the current profile (AES-256-GCM, or SM4-GCM under 国密) and the data key from the key
service, and opened with the algorithm the token names, so switching JUECE_CRYPTO_PROFILE keeps older values
readable. The associated data binds a token to its table and column: a token copied into another column, or
another table, does not open. An empty value is stored empty (that a field was left blank is what the audit
chain already says of it).

Values cannot be searched: a fresh random nonce makes every token of the same value different, so any lookup
but `isnull` is refused rather than silently matching nothing.

Written here rather than taken from django-cryptography, django-fernet-fields or django-encrypted-model-fields:
those encrypt with Fernet (AES-128-CBC + HMAC) under a key from settings, with no SM4, no token naming its
algorithm and no key service.
"""

from django.core.exceptions import FieldError
from django.db import models
from django.views.decorators.debug import sensitive_variables

from decisions import crypto

AAD_PREFIX = "juece-field"


class EncryptedTextField(models.TextField):
    """A text field stored as a crypto token bound to its table and column; read back as plain text."""

    description = "Text encrypted at rest (AES-256-GCM or SM4-GCM)"

    def associated_data(self):
        """What a token of this field is bound to: its table and column."""
        return f"{AAD_PREFIX}|{self.model._meta.db_table}|{self.column}".encode()

    @sensitive_variables("value")
    def encrypt_value(self, value):
        """Return the token stored for `value` (empty stays empty)."""
        if value is None or value == "":
            return value
        return crypto.encrypt_for_storage(str(value).encode(), self.associated_data())

    def decrypt_value(self, stored):
        """Return the plain text of a stored token; raise crypto.CryptoError if it was altered or moved."""
        if stored is None or stored == "":
            return stored
        try:
            return crypto.decrypt_from_storage(stored, self.associated_data()).decode()
        except crypto.CryptoError as error:
            # Name the column, never the value: the message may reach a log.
            raise crypto.CryptoError(f"{self.model._meta.db_table}.{self.column}: {error}") from None

    @sensitive_variables("value")
    def get_db_prep_save(self, value, connection):
        # Only what is written is encrypted: inserts, updates and bulk updates all come through here.
        value = super().get_db_prep_save(value, connection)
        return self.encrypt_value(value) if isinstance(value, str) else value

    def from_db_value(self, value, expression, connection):
        return self.decrypt_value(value)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted at rest and cannot be searched ({lookup_name})"
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        return None
