"""Data-centre energy intelligence (issue 14). Stand-in until the core lands."""
