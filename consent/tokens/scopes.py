"""Which scopes a role may hold: a token is never wider than the role of the person who made it."""

from consent.models import Role, TokenScope

ALL_SCOPES: frozenset[str] = frozenset(TokenScope.values)

SCOPES_BY_ROLE: dict[str, frozenset[str]] = {
    # An owner's `publish` token publishes what an owner may publish (banners, sub-processor
    # lists); a policy version still needs a DPO behind the token (the policy service checks).
    Role.OWNER: ALL_SCOPES,
    Role.DPO: ALL_SCOPES,
    Role.VIEWER: frozenset({TokenScope.READ, TokenScope.CONSENTS_READ}),
}


def scopes_for_role(role: str | None, *, is_superuser: bool = False) -> frozenset[str]:
    if is_superuser:
        return ALL_SCOPES
    return SCOPES_BY_ROLE.get(role or "", frozenset())
