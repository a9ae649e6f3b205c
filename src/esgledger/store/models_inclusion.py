"""SQL tables of the carbon-inclusion programme (``esgledger.inclusion``, 碳普惠).

碳普惠个人碳账户：账户、授权、结算、双分录账本、兑换目录、项目汇总。

Trips and settlement lines are lake files (``lake/inclusion/``), one per import batch or
settlement; these tables hold what must be guarded by the database:

* the **ledger** — ``inclusion_transactions`` and ``inclusion_transfers``. A transfer moves
  a positive amount of one asset (``pt`` points, ``mg`` milligrams of CO2 reduced) from a
  debit account to a different credit account, so no stored transaction can be unbalanced
  (the shape of Formance's postings and TigerBeetle's transfers). Both tables are append-only:
  migration ``0012_inclusion`` installs triggers that refuse UPDATE and DELETE on SQLite and
  PostgreSQL. Transactions are hash-chained (``prev_hash`` and ``hash`` unique, so the chain
  cannot fork) and each carries the Merkle root of its transfers;
* ``inclusion_balances`` — one counter per account and asset, moved in the same transaction
  as the transfers, under ``CHECK (may_go_negative OR balance >= 0)``: the database refuses an
  overdraft whatever the code does, also between two concurrent redemptions. Balances are
  derived: ``esgledger inclusion verify`` recomputes every counter from the transfers;
* ``inclusion_days`` — each ledger day's Merkle root over its transaction hashes, chained;
* accounts (pseudonyms only: the key that makes them lives outside the database), consent per
  scenario, the programme's settings, settlements, the redemption catalogue with its stock
  (``CHECK (stock >= 0)``), redemptions and registry projects (one per methodology, region and
  period start, so the same period's grams cannot be aggregated twice).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from esgledger.store.models import Base

__all__ = [
    "InclusionAccount",
    "InclusionBalance",
    "InclusionCatalogueItem",
    "InclusionConsent",
    "InclusionDay",
    "InclusionProgramme",
    "InclusionProject",
    "InclusionRedemption",
    "InclusionSettlement",
    "InclusionTransaction",
    "InclusionTransfer",
]

#: The two assets of the ledger: points (the incentive currency) and milligrams of CO2 reduced.
ASSETS = ("pt", "mg")


class InclusionProgramme(Base):
    """One setting of the workspace's programme (``methodology`` chosen by ``inclusion use``)."""

    __tablename__ = "inclusion_programme"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InclusionAccount(Base):
    """A personal carbon account, known by its pseudonym only (created by its first trip)."""

    __tablename__ = "inclusion_accounts"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'held', 'closed')", name="status_known"),
    )

    pseudonym: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_batch: Mapped[str | None] = mapped_column(
        String(40), comment="the import batch whose trip created the account"
    )
    status: Mapped[str] = mapped_column(String(10), comment="active, held (for review), closed")
    held_reason: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(
        Float, comment="behavioural anomaly score of the last settlement that held it"
    )
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InclusionConsent(Base):
    """An account's opt-in to one scenario (``transit``, ``cycling``…), withdrawable."""

    __tablename__ = "inclusion_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(
        String(40), ForeignKey("inclusion_accounts.pseudonym"), index=True
    )
    scenario: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))


class InclusionSettlement(Base):
    """One settlement run: its lines file (``lake/inclusion/settlements/<id>.parquet``)."""

    __tablename__ = "inclusion_settlements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True, comment="order of the settlements")
    through: Mapped[date] = mapped_column(Date, comment="last trip date the run could settle")
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    lines_path: Mapped[str] = mapped_column(String(300), comment="relative to the workspace")
    sha256: Mapped[str] = mapped_column(String(64), comment="of the lines file")
    trips_settled: Mapped[int] = mapped_column(BigInteger)
    trips_refused: Mapped[int] = mapped_column(BigInteger)
    trips_pending: Mapped[int] = mapped_column(BigInteger)
    reduction_mg: Mapped[int] = mapped_column(BigInteger, comment="[mg CO2] issued")
    points: Mapped[int] = mapped_column(BigInteger, comment="[points] issued")
    summary: Mapped[dict[str, object] | None] = mapped_column(JSON)


class InclusionTransaction(Base):
    """A ledger transaction: its header, hash-chained; its amounts are its transfers."""

    __tablename__ = "inclusion_transactions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20), comment="issuance, redemption, donation…")
    day: Mapped[date] = mapped_column(Date, index=True, comment="ledger day (Asia/Shanghai)")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    meta: Mapped[dict[str, object]] = mapped_column(JSON)
    transfer_count: Mapped[int] = mapped_column(Integer)
    merkle_root: Mapped[str] = mapped_column(String(64), comment="over its transfers' leaves")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class InclusionTransfer(Base):
    """A positive amount of one asset moved from ``debit`` to ``credit`` (append-only)."""

    __tablename__ = "inclusion_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit <> credit", name="two_accounts"),
        CheckConstraint("asset IN ('pt', 'mg')", name="asset_known"),
    )

    tx_seq: Mapped[int] = mapped_column(
        Integer, ForeignKey("inclusion_transactions.seq"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    debit: Mapped[str] = mapped_column(String(80), index=True)
    credit: Mapped[str] = mapped_column(String(80), index=True)
    asset: Mapped[str] = mapped_column(String(4), comment="pt (points) or mg (mg CO2)")
    amount: Mapped[int] = mapped_column(BigInteger, comment="[points] or [mg CO2], > 0")


class InclusionBalance(Base):
    """The running balance of one account in one asset (moved with every transfer)."""

    __tablename__ = "inclusion_balances"
    __table_args__ = (
        CheckConstraint("may_go_negative OR balance >= 0", name="no_overdraft"),
        CheckConstraint("asset IN ('pt', 'mg')", name="asset_known"),
    )

    account: Mapped[str] = mapped_column(String(80), primary_key=True)
    asset: Mapped[str] = mapped_column(String(4), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    may_go_negative: Mapped[bool] = mapped_column(
        Boolean, comment="true for source accounts (the points pool, reductions)"
    )


class InclusionDay(Base):
    """A ledger day: the Merkle root of its transaction hashes, chained to the day before."""

    __tablename__ = "inclusion_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tx_count: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    prev_chain: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))


class InclusionCatalogueItem(Base):
    """Something points can be redeemed for: a coupon, voucher, donation or neutralisation."""

    __tablename__ = "inclusion_catalogue"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('coupon', 'voucher', 'donation', 'neutralisation')", name="kind_known"
        ),
        CheckConstraint("price_points >= 0", name="price_not_negative"),
        CheckConstraint("reduction_mg >= 0", name="reduction_not_negative"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    item: Mapped[str] = mapped_column(String(60), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    price_points: Mapped[int] = mapped_column(BigInteger, comment="[points] per unit")
    reduction_mg: Mapped[int] = mapped_column(
        BigInteger, comment="[mg CO2] retired per unit (neutralisation), else 0"
    )
    stock: Mapped[int | None] = mapped_column(Integer, comment="units left; empty = unlimited")
    counterparty: Mapped[str] = mapped_column(
        String(80), comment="ledger account paid: merchant:…, charity:…, cancelled:…"
    )
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InclusionRedemption(Base):
    """One redemption of catalogue units by an account (its ledger transaction named)."""

    __tablename__ = "inclusion_redemptions"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    tx_id: Mapped[str] = mapped_column(String(80), ForeignKey("inclusion_transactions.id"))
    pseudonym: Mapped[str] = mapped_column(String(40), index=True)
    item: Mapped[str] = mapped_column(String(60), ForeignKey("inclusion_catalogue.item"))
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger, comment="[points] spent")
    reduction_mg: Mapped[int] = mapped_column(BigInteger, comment="[mg CO2] retired")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class InclusionProject(Base):
    """Reductions aggregated for a registry: one methodology, region and period."""

    __tablename__ = "inclusion_projects"
    __table_args__ = (
        UniqueConstraint(
            "methodology", "region", "period_start", name="uq_inclusion_projects_period"
        ),
        CheckConstraint("period_end >= period_start", name="period_order"),
        CheckConstraint("total_mg > 0", name="total_positive"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    methodology: Mapped[str] = mapped_column(String(60))
    region: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    total_mg: Mapped[int] = mapped_column(BigInteger, comment="[mg CO2] aggregated")
    units: Mapped[int] = mapped_column(BigInteger, comment="[t CO2] whole tonnes serialised")
    serial_first: Mapped[str | None] = mapped_column(String(120))
    serial_last: Mapped[str | None] = mapped_column(String(120))
    registry_name: Mapped[str] = mapped_column(String(100), comment="the registry filed with")
    tx_id: Mapped[str] = mapped_column(String(80), ForeignKey("inclusion_transactions.id"))
    pack_sha256: Mapped[str | None] = mapped_column(String(64), comment="of the filing pack")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
