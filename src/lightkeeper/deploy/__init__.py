"""Releases: put a version into a deployment (direct, canary, shadow), promote, roll back."""
