"""Citizen accounts: models, SQL store and the rules around them."""
