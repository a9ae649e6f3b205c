"""Carbon inclusion (碳普惠): personal carbon accounts for low-carbon trips on an auditable ledger.

Methodologies as data (:mod:`.methodology`), the station network (:mod:`.network`), trip
feeds (:mod:`.trips`), accounts and consent (:mod:`.accounts`), integrity rules and
settlement (:mod:`.rules`, :mod:`.anomaly`, :mod:`.settle`), the double-entry ledger
(:mod:`.ledger`), the programme's results (:mod:`.results`) and the one module that opens a
workspace, :mod:`.service`. See ``docs/inclusion/``.
"""
