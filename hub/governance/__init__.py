"""Data-access governance: grants, enforcement, consents, access requests, roles, audit views."""
