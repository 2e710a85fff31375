"""PostgreSQL's two roles: create them, give the tables to the owner, grant the application its share."""

from typing import Any

import environ
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from consent.dbroles import (
    database_connection,
    database_create,
    db_grants_apply,
    db_roles_create,
    ledger_owner,
)


class Command(BaseCommand):
    help = (
        "PostgreSQL: create the owner role (DATABASE_OWNER_URL) and the application role (DATABASE_URL) "
        "with --admin-url, then grant the application SELECT/INSERT only on the ledger and audit tables. "
        "`migrate` grants by itself; run this once to set up, or to repair."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin-url",
            help="A role that may create roles and databases (e.g. postgres://postgres@host/consentry): "
            "create the two roles and the database if missing, and hand whatever the application's role "
            "owns in that database to the owner.",
        )
        parser.add_argument(
            "--createdb", action="store_true", help="Let the owner create databases (to run the test suite)."
        )

    def handle(self, *args: Any, admin_url: str | None, createdb: bool, **options: Any) -> None:
        app = settings.DATABASES["default"]
        owner = settings.DATABASE_OWNER
        if app["ENGINE"] != "django.db.backends.postgresql" or not owner:
            raise CommandError(
                "Set DATABASE_URL (the application's role) and DATABASE_OWNER_URL, on PostgreSQL."
            )
        if not app.get("USER") or app.get("USER") == owner.get("USER"):
            raise CommandError("DATABASE_URL and DATABASE_OWNER_URL must name two different roles.")
        if admin_url:
            admin = database_connection(environ.Env.db_url_config(admin_url), alias="admin")
            try:
                done = db_roles_create(
                    admin,
                    owner=owner["USER"],
                    owner_password=owner.get("PASSWORD") or None,
                    app=app["USER"],
                    app_password=app.get("PASSWORD") or None,
                    database=owner["NAME"],
                    createdb=createdb,
                )
                if database_create(admin, name=owner["NAME"], owner=owner["USER"]):
                    done.append(f"CREATE DATABASE {owner['NAME']} OWNER {owner['USER']}")
            except DatabaseError as error:
                raise CommandError(f"Could not create the roles: {error}") from error
            finally:
                admin.close()
            for line in done:
                self.stdout.write(line)
            self.stdout.write(f"Roles {owner['USER']} (owner) and {app['USER']} (application) are in place.")
        connection = database_connection(owner, alias="owner")
        try:
            if ledger_owner(connection) is None:
                self.stdout.write(
                    f"No Consentry tables in {owner['NAME']} yet: `manage.py migrate` will grant."
                )
                return
            statements = db_grants_apply(connection, app_role=app["USER"])
        except DatabaseError as error:
            raise CommandError(f"Could not grant as {owner['USER']}: {error}") from error
        finally:
            connection.close()
        self.stdout.write(
            f"{app['USER']}: {len(statements)} grants applied (SELECT, INSERT only on the ledger)."
        )
