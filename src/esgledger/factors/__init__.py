"""Emission-factor library: shipped official sets, user sets, resolution rules."""
