"""Consents a site records from its own systems (sign-up forms, settings pages, call centres),
the accounts (subjects) they name only as an HMAC, and links from accounts to banner visitors."""
