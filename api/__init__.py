"""The Calmline HTTP API (FastAPI)."""
