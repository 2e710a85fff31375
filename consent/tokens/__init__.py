"""The management API's credentials: per-site tokens with scopes (models in consent.models.tokens)."""
