"""Placeholder: filled in by the next step."""

ROUTES: list = []
