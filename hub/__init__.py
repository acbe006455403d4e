"""LGSP Hub: provincial data-sharing and identity hub."""
