"""Shared objectives: definition, dual sign-off, lifecycle and history (issue #3)."""
