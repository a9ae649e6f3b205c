"""The dashboard: the year's inventory with its history, targets, renewable share, data
quality and data-collection progress, as one principal may see it
(:func:`esgledger.dashboard.service.dashboard_view`)."""
