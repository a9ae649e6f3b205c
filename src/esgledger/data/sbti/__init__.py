"""Shipped SBTi criteria thresholds and CDP-WWF temperature-rating regression parameters."""
