"""Shipped exchange rates (ECB euro reference rates, annual averages per US dollar)."""
