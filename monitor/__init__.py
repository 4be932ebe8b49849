"""The Calmline domain: call types, audio loading, measurements, reports and the CLI."""
