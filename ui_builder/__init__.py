"""Layouts to end-user pages, and the consultant studio (issue 8)."""
