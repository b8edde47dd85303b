"""Append-only records (GMP: a record is never edited or deleted).

The Python guard covers every database; on PostgreSQL a trigger (see the
migrations) also refuses UPDATE and DELETE issued as raw SQL.
"""

from django.db import models


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(
            f"{self.model._meta.verbose_name_plural} are append-only and cannot be updated; "
            "record a new entry instead."
        )

    def delete(self):
        raise AppendOnlyError(
            f"{self.model._meta.verbose_name_plural} are append-only and cannot be deleted."
        )


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(
                f"{self._meta.verbose_name} {self.pk} is append-only and cannot be changed; "
                "record a superseding entry with a reason instead."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name} {self.pk} is append-only.")


def postgres_append_only_sql(table: str) -> tuple[str, str]:
    """(forward, reverse) SQL for a trigger that refuses UPDATE and DELETE on `table`."""
    forward = f"""
        CREATE OR REPLACE FUNCTION alpharelease_refuse_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'table %% is append-only: %% refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER {table}_append_only
            BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION alpharelease_refuse_change();
    """
    reverse = f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"
    return forward, reverse
