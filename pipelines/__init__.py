"""Composition: the batch pipeline (file -> report) and, later, the streaming pipeline."""
