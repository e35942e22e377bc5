"""Model fields for personal data at rest (dangjian/core/crypto.py).

`EncryptedTextField` holds plaintext in Python and a token in the database: encrypted on every write
(save, bulk_create, update), decrypted on every read (models and values()). The empty string stays
empty (a blank phone is no secret). A token is bound to its column (`app.model.field` as associated
data). The database cannot compare tokens (each has a random nonce), so every lookup but `isnull` is
refused loudly: filter on the `SearchHashField` beside it instead.

`SearchHashField` holds the search hash of another field of the same row, computed whenever the row
is saved with that field (`pre_save`); unique and indexed, it is what lookups and uniqueness use.
"""

from django.core.exceptions import FieldError
from django.db import models

from dangjian.core import crypto


class EncryptedTextField(models.TextField):
    description = "Text stored encrypted (SM4 by default)"

    def _context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return crypto.provider().decrypt(value, context=self._context())

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if not value:
            return value
        return crypto.provider().encrypt(value, context=self._context())

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self._context()} is stored encrypted: the database cannot compare it ({lookup_name!r}); "
                "filter on its search hash")
        return super().get_lookup(lookup_name)


class SearchHashField(models.CharField):
    """The search hash (64 hex digits) of `source`, normalised as `kind` (crypto.normalise_for_search)."""

    description = "Search hash of an encrypted field"

    def __init__(self, *args, source: str, kind: str, **kwargs):
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, kind=self.kind)
        if kwargs.get("max_length") == 64:
            del kwargs["max_length"]
        if kwargs.get("editable") is False:
            del kwargs["editable"]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.source)
        digest = crypto.search_hash(value, kind=self.kind) if value else None
        setattr(model_instance, self.attname, digest)
        return digest
