"""Carbon inclusion (碳普惠): personal carbon accounts credited for low-carbon trips.

Trips are imported (``esgledger import WS --kind trips``), settled against a filed
methodology into points and milligrams of CO2 reduced on an append-only double-entry ledger,
and redeemed, donated or aggregated into registry projects. Faces call
:mod:`esgledger.inclusion.service` only.
"""
