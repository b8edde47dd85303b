"""Append-only records (GMP: a record is never edited or deleted).

The Python guard covers every database; on PostgreSQL triggers (see the
migrations) also refuse UPDATE, DELETE and TRUNCATE issued as raw SQL. TRUNCATE fires no
row trigger, so it has a statement trigger of its own. (A table owner can still switch
triggers off: deploy/ runs the application as a role that owns no table, and the audit
chain is anchored outside the database, see qc.audit_checkpoints.)
"""

from collections.abc import Callable

from django.db import migrations, models


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
    """(forward, reverse) SQL for the triggers of an append-only table: UPDATE and DELETE
    refused row by row, TRUNCATE refused as a statement (postgres_no_truncate_sql)."""
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
    """ + postgres_no_truncate_sql(table)[0]
    reverse = (f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"
               + postgres_no_truncate_sql(table)[1])
    return forward, reverse


def postgres_no_truncate_sql(table: str) -> tuple[str, str]:
    """(forward, reverse) SQL for a trigger that refuses TRUNCATE of `table`. It uses the
    function postgres_append_only_sql creates (TG_OP is 'TRUNCATE')."""
    forward = f"""
        CREATE OR REPLACE TRIGGER {table}_no_truncate
            BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION alpharelease_refuse_change();
    """
    reverse = f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};"
    return forward, reverse


def postgres_keep_records_sql(table: str) -> tuple[str, str]:
    """(forward, reverse) SQL for a statement trigger that refuses TRUNCATE of a table of GMP
    records whose rows change state (batches, certificates, master data): a TRUNCATE typed
    into the wrong session must not empty it. The app's role cannot TRUNCATE at all
    (grant_app_role); this stops the owner's accident, not the owner."""
    forward = f"""
        CREATE OR REPLACE FUNCTION alpharelease_refuse_truncate() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'table %% holds GMP records: TRUNCATE refused', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql;
        CREATE OR REPLACE TRIGGER {table}_no_truncate
            BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION alpharelease_refuse_truncate();
    """
    return forward, postgres_no_truncate_sql(table)[1]


def postgres_keep_rows_sql(table: str) -> tuple[str, str]:
    """(forward, reverse) SQL for a trigger that refuses DELETE (rows may be updated): for the
    audit chain head, whose loss would let the chain restart from nothing."""
    forward = f"""
        CREATE TRIGGER {table}_keep_rows
            BEFORE DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION alpharelease_refuse_change();
    """
    reverse = f"DROP TRIGGER IF EXISTS {table}_keep_rows ON {table};"
    return forward, reverse


def postgres_triggers(sql_for: Callable[[str], tuple[str, str]],
                      tables: list[str]) -> migrations.RunPython:
    """A migration operation that runs sql_for(table)'s forward SQL for every table on
    PostgreSQL (its reverse when migrating back); nothing on SQLite, which has the Python
    guard only."""

    def run(schema_editor, which: int) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for table in tables:
                schema_editor.execute(sql_for(table)[which])

    return migrations.RunPython(lambda apps, schema_editor: run(schema_editor, 0),
                                lambda apps, schema_editor: run(schema_editor, 1))
