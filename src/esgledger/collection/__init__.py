"""Data collection: campaigns, tasks and their review (``tasks`` is the state machine,
``service`` the operations the CLI and the API call, ``flags`` the review aids)."""
