"""The Calmline inference core: one Protocol per kind of model, backends, device selection."""
