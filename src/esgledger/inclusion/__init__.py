"""The carbon-inclusion programme (碳普惠): personal carbon accounts, settlements of low-carbon
trips into points and milligrams of CO2 reduced, an append-only double-entry ledger, the
redemption catalogue and registry aggregation."""
