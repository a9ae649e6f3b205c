"""Data-centre energy intelligence (issue 14).

Stand-in written by the baseline helper so that its branch runs before the lead's
``energy core:`` commit lands; the lead's version replaces this file on merge.
"""
