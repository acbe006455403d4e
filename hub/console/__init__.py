"""The administrators' console: access requests, grants, audit, clients, datasets, accounts."""
