"""Calmline: call-center telephony quality monitor."""

__version__ = "0.1.0"
