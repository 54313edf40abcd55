"""Shared building blocks: the declarative base, errors and content loading."""
