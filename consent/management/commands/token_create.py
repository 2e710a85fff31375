"""`manage.py token_create --site <key> --scopes read,export --name "CI"`: a site's API token, printed once.

For automation and tests; in the admin, a site's owners and DPOs make tokens under "API tokens".
A shell token acts as trusted code (no person behind it): give it only the scopes it needs.
`--user <username or email>` makes it that member's token instead: it acts as them, within
their role (a policy version needs a DPO behind the token), and dies with their role.
"""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from consent.models import Site, TokenScope
from consent.tokens.services import token_create


class Command(BaseCommand):
    help = "Make an API token for one site and print it (it is shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True, help="The site's key.")
        parser.add_argument(
            "--scopes", required=True, help=f"Comma-separated, of: {', '.join(TokenScope.values)}."
        )
        parser.add_argument("--name", required=True, help="What will use it.")
        parser.add_argument("--expires-days", type=int, default=None, help="Expire after this many days.")
        parser.add_argument(
            "--user",
            default=None,
            help="The owner or DPO the token acts as (username or email); default: none.",
        )

    def handle(
        self,
        *args: Any,
        site: str,
        scopes: str,
        name: str,
        expires_days: int | None,
        user: str | None,
        **options: Any,
    ) -> None:
        found = Site.objects.filter(key=site).first()
        if found is None:
            raise CommandError(f"No site with the key {site!r}.")
        member = None
        if user is not None:
            member = get_user_model().objects.filter(Q(username=user) | Q(email__iexact=user)).first()
            if member is None:
                raise CommandError(f"No user {user!r}.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days is not None else None
        try:
            token, raw = token_create(
                site=found,
                name=name,
                scopes=[scope.strip() for scope in scopes.split(",") if scope.strip()],
                by=member,
                expires_at=expires_at,
            )
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            ) from error
        self.stderr.write(
            f"Token {token.visible_prefix} for {found.key} ({', '.join(token.scopes)}); "
            "it is not shown again:"
        )
        self.stdout.write(raw)
