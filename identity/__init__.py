"""Electronic identification: accounts, organizations, sign-in, and the OpenID Connect provider."""
