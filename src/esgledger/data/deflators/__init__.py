"""Shipped price indexes (U.S. BLS CPI-U annual averages) for deflating spend."""
