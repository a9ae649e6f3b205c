"""Emission-factor library: shipped official sets, user sets, resolution rules.

* :class:`FactorLibrary` holds every factor (shipped sets + a workspace's user sets) as one
  Arrow table with the metadata of each set (:mod:`esgledger.factors.library`);
* :func:`resolve` picks the factor of one activity key and says why; :func:`resolve_many`
  does it once per distinct key of an activity table (:mod:`esgledger.factors.resolve`,
  rules in ``docs/methodology/factor-resolution.md``);
* :mod:`esgledger.factors.sources` converts official files into tidy factor tables.
"""

from esgledger.factors.library import (
    SHIPPED_PRECEDENCE,
    USER_PRECEDENCE,
    FactorLibrary,
    conflicting_ids,
)
from esgledger.factors.resolve import (
    TIERS,
    Resolution,
    Strictness,
    gwp_factor,
    parse_proxies,
    proxies_from_options,
    reported_factor,
    resolve,
    resolve_many,
)

__all__ = [
    "SHIPPED_PRECEDENCE",
    "TIERS",
    "USER_PRECEDENCE",
    "FactorLibrary",
    "Resolution",
    "Strictness",
    "conflicting_ids",
    "gwp_factor",
    "parse_proxies",
    "proxies_from_options",
    "reported_factor",
    "resolve",
    "resolve_many",
]
