"""A tiny ledger text format for hand-worked tests (beancount's ``load_doc`` habit).

::

    2026-03-01 issuance iss-1
      pool -> user:p_a  560 pt
      reductions:shenzhen-transit -> user:p_a 560400 mg

    2026-03-02 redemption r-1 {"item": "coffee"}
      user:p_a  -60 pt
      merchant:m1  60 pt

A header is ``day kind id [meta JSON]``; a body line is either a transfer
``debit -> credit amount asset`` or a signed posting ``account amount asset``. Postings and
transfers may not be mixed in one transaction. Blank lines and ``;`` comments are skipped.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from esgledger.inclusion.ledger import Posting, Transaction


def parse(text: str) -> list[Transaction]:
    """The transactions written in ``text`` (construction errors propagate)."""
    blocks: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            blocks.append((line, []))
        else:
            blocks[-1][1].append(line.strip())
    out: list[Transaction] = []
    for header, body in blocks:
        day_text, kind, tx_id, *rest = header.split(maxsplit=3)
        meta: dict[str, Any] = json.loads(rest[0]) if rest else {}
        day = date.fromisoformat(day_text)
        if body and all("->" in line for line in body):
            transfers = []
            for line in body:
                debit, right = (part.strip() for part in line.split("->"))
                credit, amount, asset = right.split()
                transfers.append((debit, credit, asset, int(amount)))
            out.append(Transaction.of_transfers(tx_id, kind, day, transfers, meta))
        else:
            postings = []
            for line in body:
                account, amount, asset = line.split()
                postings.append(Posting(account, asset, int(amount)))
            out.append(Transaction(tx_id, kind, day, tuple(postings), meta))
    return out


def one(text: str) -> Transaction:
    """The single transaction written in ``text``."""
    (tx,) = parse(text)
    return tx
