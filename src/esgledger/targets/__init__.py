"""Targets: reduction targets, abatement planning and offsets (filled in by the targets helper)."""
