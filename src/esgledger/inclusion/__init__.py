"""Carbon inclusion (碳普惠): personal carbon accounts for low-carbon trips.

碳普惠：低碳出行的个人碳账户。

Pure domain modules: :mod:`.methodology` (versioned, effective-dated methodologies read from
``esgledger/data/inclusion``), :mod:`.rules` (integrity rules over a trips table),
:mod:`.anomaly` (behavioural anomaly score per account) and :mod:`.settle` (the settlement
lines of one run). Only ``inclusion.service`` opens a workspace.
"""
