"""Reusable UI pieces: page frame, tables, confirm dialog, notifications."""
