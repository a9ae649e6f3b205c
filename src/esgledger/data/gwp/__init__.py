"""Shipped GWP-100 tables (IPCC AR4/AR5/AR6) and refrigerant blend compositions."""
