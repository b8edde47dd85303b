"""Give the application's database role exactly the rights it needs, as the owner of the
tables (the role that runs `manage.py migrate`). The application then runs as a role that
owns no table: it cannot switch the append-only triggers off, drop them, truncate or alter a
table, and cannot update or delete an append-only record even where a trigger is missing."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from qc.append_only import AppendOnlyModel

# Updated in place but never emptied: losing the head would let the chain restart unseen.
KEEP_ROWS = ["qc_auditchainhead"]


def append_only_tables() -> list[str]:
    return sorted(model._meta.db_table for model in apps.get_models()
                  if issubclass(model, AppendOnlyModel))


def grant_statements(role: str) -> list[str]:
    quoted = connection.ops.quote_name(role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {quoted}",
    ]
    for table in append_only_tables():
        statements.append(f"REVOKE UPDATE, DELETE ON {connection.ops.quote_name(table)} "
                          f"FROM {quoted}")
    for table in KEEP_ROWS:
        statements.append(f"REVOKE DELETE ON {connection.ops.quote_name(table)} FROM {quoted}")
    return statements


class Command(BaseCommand):
    help = ("Grant the application's PostgreSQL role (which must not own the tables) what it "
            "needs and no more; run as the table owner after every migrate. --print shows "
            "the SQL instead.")

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role the application connects as.")
        parser.add_argument("--print", action="store_true", dest="print_only",
                            help="Print the statements instead of running them.")

    def handle(self, *args, role, print_only, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL matter; this site uses "
                               f"{connection.vendor}.")
        statements = grant_statements(role)
        if print_only:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper, rolname = current_user FROM pg_roles "
                           "WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"There is no role {role}: CREATE ROLE {role} LOGIN "
                                   "PASSWORD '...' first.")
            if found[0]:
                raise CommandError(f"{role} is a superuser, which bypasses every grant: give "
                                   "the application a plain role.")
            if found[1]:
                raise CommandError(f"{role} is the role running this command, the owner of "
                                   "the tables: the application needs a role of its own.")
            with transaction.atomic():
                for statement in statements:
                    cursor.execute(statement)
        self.stdout.write(f"Granted {role} what the application needs; it owns no table and "
                          f"may not update or delete the {len(append_only_tables())} "
                          "append-only tables.")
