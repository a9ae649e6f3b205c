"""The carbon-inclusion programme (``esgledger.inclusion``): accounts, consents, settlements,
the append-only double-entry ledger (transfers, balances under CHECK, hash-chained
transactions, day roots), the redemption catalogue, redemptions and registry projects.

Written to match ``esgledger.store.models_inclusion``; it runs on SQLite and PostgreSQL.
The triggers that make the ledger append-only are created here for both dialects.

Revision ID: 0012_inclusion
Revises: 0011_energy
Create Date: 2026-12-08 02:47:41.623973
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_inclusion"
down_revision: str | None = "0011_energy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: Tables whose rows are never changed or deleted once written.
APPEND_ONLY = ("inclusion_transactions", "inclusion_transfers")


def _append_only_triggers() -> None:
    """Refuse UPDATE and DELETE on the ledger tables, in the database itself."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION inclusion_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the inclusion ledger is append-only: % on % refused', "
            "TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION inclusion_append_only()"
            )
            # TRUNCATE fires no row trigger: refuse it with a statement trigger.
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION inclusion_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'the inclusion ledger is append-only: "
                    f"{action} on {table} refused'); END"
                )


def _drop_append_only_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS inclusion_append_only()")
    else:
        for table in APPEND_ONLY:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


def upgrade() -> None:
    op.create_table(
        "inclusion_accounts",
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "first_batch",
            sa.String(length=40),
            nullable=True,
            comment="the import batch whose trip created the account",
        ),
        sa.Column(
            "status",
            sa.String(length=10),
            nullable=False,
            comment="active, held (for review), closed",
        ),
        sa.Column("held_reason", sa.Text(), nullable=True),
        sa.Column(
            "score",
            sa.Float(),
            nullable=True,
            comment="behavioural anomaly score of the last settlement that held it",
        ),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'held', 'closed')",
            name=op.f("ck_inclusion_accounts_status_known"),
        ),
        sa.PrimaryKeyConstraint("pseudonym", name=op.f("pk_inclusion_accounts")),
    )
    op.create_table(
        "inclusion_balances",
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("asset", sa.String(length=4), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column(
            "may_go_negative",
            sa.Boolean(),
            nullable=False,
            comment="true for source accounts (the points pool, reductions)",
        ),
        sa.CheckConstraint("asset IN ('pt', 'mg')", name=op.f("ck_inclusion_balances_asset_known")),
        sa.CheckConstraint(
            "may_go_negative OR balance >= 0", name=op.f("ck_inclusion_balances_no_overdraft")
        ),
        sa.PrimaryKeyConstraint("account", "asset", name=op.f("pk_inclusion_balances")),
    )
    op.create_table(
        "inclusion_catalogue",
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("price_points", sa.BigInteger(), nullable=False, comment="[points] per unit"),
        sa.Column(
            "reduction_mg",
            sa.BigInteger(),
            nullable=False,
            comment="[mg CO2] retired per unit (neutralisation), else 0",
        ),
        sa.Column("stock", sa.Integer(), nullable=True, comment="units left; empty = unlimited"),
        sa.Column(
            "counterparty",
            sa.String(length=80),
            nullable=False,
            comment="ledger account paid: merchant:…, charity:…, cancelled:…",
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('coupon', 'voucher', 'donation', 'neutralisation')",
            name=op.f("ck_inclusion_catalogue_kind_known"),
        ),
        sa.CheckConstraint(
            "price_points >= 0", name=op.f("ck_inclusion_catalogue_price_not_negative")
        ),
        sa.CheckConstraint(
            "reduction_mg >= 0", name=op.f("ck_inclusion_catalogue_reduction_not_negative")
        ),
        sa.CheckConstraint(
            "stock IS NULL OR stock >= 0", name=op.f("ck_inclusion_catalogue_stock_not_negative")
        ),
        sa.PrimaryKeyConstraint("item", name=op.f("pk_inclusion_catalogue")),
    )
    op.create_table(
        "inclusion_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tx_count", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("prev_chain", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_inclusion_days")),
    )
    op.create_table(
        "inclusion_programme",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_inclusion_programme")),
    )
    op.create_table(
        "inclusion_settlements",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, comment="order of the settlements"),
        sa.Column(
            "through", sa.Date(), nullable=False, comment="last trip date the run could settle"
        ),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "lines_path", sa.String(length=300), nullable=False, comment="relative to the workspace"
        ),
        sa.Column("sha256", sa.String(length=64), nullable=False, comment="of the lines file"),
        sa.Column("trips_settled", sa.BigInteger(), nullable=False),
        sa.Column("trips_refused", sa.BigInteger(), nullable=False),
        sa.Column("trips_pending", sa.BigInteger(), nullable=False),
        sa.Column("reduction_mg", sa.BigInteger(), nullable=False, comment="[mg CO2] issued"),
        sa.Column("points", sa.BigInteger(), nullable=False, comment="[points] issued"),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inclusion_settlements")),
        sa.UniqueConstraint("seq", name=op.f("uq_inclusion_settlements_seq")),
    )
    op.create_table(
        "inclusion_transactions",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column(
            "kind", sa.String(length=20), nullable=False, comment="issuance, redemption, donation…"
        ),
        sa.Column("day", sa.Date(), nullable=False, comment="ledger day (Asia/Shanghai)"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("transfer_count", sa.Integer(), nullable=False),
        sa.Column(
            "merkle_root",
            sa.String(length=64),
            nullable=False,
            comment="over its transfers' leaves",
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_inclusion_transactions")),
        sa.UniqueConstraint("hash", name=op.f("uq_inclusion_transactions_hash")),
        sa.UniqueConstraint("id", name=op.f("uq_inclusion_transactions_id")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_inclusion_transactions_prev_hash")),
    )
    op.create_index(
        op.f("ix_inclusion_transactions_day"), "inclusion_transactions", ["day"], unique=False
    )

    op.create_table(
        "inclusion_consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("scenario", sa.String(length=20), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["pseudonym"],
            ["inclusion_accounts.pseudonym"],
            name=op.f("fk_inclusion_consents_pseudonym_inclusion_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inclusion_consents")),
    )
    op.create_index(
        op.f("ix_inclusion_consents_pseudonym"), "inclusion_consents", ["pseudonym"], unique=False
    )

    op.create_table(
        "inclusion_projects",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("methodology", sa.String(length=60), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("total_mg", sa.BigInteger(), nullable=False, comment="[mg CO2] aggregated"),
        sa.Column(
            "units", sa.BigInteger(), nullable=False, comment="[t CO2] whole tonnes serialised"
        ),
        sa.Column("serial_first", sa.String(length=120), nullable=True),
        sa.Column("serial_last", sa.String(length=120), nullable=True),
        sa.Column(
            "registry_name",
            sa.String(length=100),
            nullable=False,
            comment="the registry filed with",
        ),
        sa.Column("tx_id", sa.String(length=80), nullable=False),
        sa.Column("pack_sha256", sa.String(length=64), nullable=True, comment="of the filing pack"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "period_end >= period_start", name=op.f("ck_inclusion_projects_period_order")
        ),
        sa.CheckConstraint("total_mg > 0", name=op.f("ck_inclusion_projects_total_positive")),
        sa.ForeignKeyConstraint(
            ["tx_id"],
            ["inclusion_transactions.id"],
            name=op.f("fk_inclusion_projects_tx_id_inclusion_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inclusion_projects")),
        sa.UniqueConstraint(
            "methodology", "region", "period_start", name="uq_inclusion_projects_period"
        ),
    )
    op.create_table(
        "inclusion_redemptions",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("tx_id", sa.String(length=80), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False, comment="[points] spent"),
        sa.Column("reduction_mg", sa.BigInteger(), nullable=False, comment="[mg CO2] retired"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_inclusion_redemptions_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["item"],
            ["inclusion_catalogue.item"],
            name=op.f("fk_inclusion_redemptions_item_inclusion_catalogue"),
        ),
        sa.ForeignKeyConstraint(
            ["tx_id"],
            ["inclusion_transactions.id"],
            name=op.f("fk_inclusion_redemptions_tx_id_inclusion_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inclusion_redemptions")),
    )
    op.create_index(
        op.f("ix_inclusion_redemptions_pseudonym"),
        "inclusion_redemptions",
        ["pseudonym"],
        unique=False,
    )

    op.create_table(
        "inclusion_transfers",
        sa.Column("tx_seq", sa.Integer(), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("debit", sa.String(length=80), nullable=False),
        sa.Column("credit", sa.String(length=80), nullable=False),
        sa.Column(
            "asset", sa.String(length=4), nullable=False, comment="pt (points) or mg (mg CO2)"
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False, comment="[points] or [mg CO2], > 0"),
        sa.CheckConstraint(
            "asset IN ('pt', 'mg')", name=op.f("ck_inclusion_transfers_asset_known")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_inclusion_transfers_amount_positive")),
        sa.CheckConstraint("debit <> credit", name=op.f("ck_inclusion_transfers_two_accounts")),
        sa.ForeignKeyConstraint(
            ["tx_seq"],
            ["inclusion_transactions.seq"],
            name=op.f("fk_inclusion_transfers_tx_seq_inclusion_transactions"),
        ),
        sa.PrimaryKeyConstraint("tx_seq", "idx", name=op.f("pk_inclusion_transfers")),
    )
    op.create_index(
        op.f("ix_inclusion_transfers_credit"), "inclusion_transfers", ["credit"], unique=False
    )
    op.create_index(
        op.f("ix_inclusion_transfers_debit"), "inclusion_transfers", ["debit"], unique=False
    )

    _append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    op.drop_index(op.f("ix_inclusion_transfers_debit"), table_name="inclusion_transfers")
    op.drop_index(op.f("ix_inclusion_transfers_credit"), table_name="inclusion_transfers")

    op.drop_table("inclusion_transfers")
    op.drop_index(op.f("ix_inclusion_redemptions_pseudonym"), table_name="inclusion_redemptions")

    op.drop_table("inclusion_redemptions")
    op.drop_table("inclusion_projects")
    op.drop_index(op.f("ix_inclusion_consents_pseudonym"), table_name="inclusion_consents")

    op.drop_table("inclusion_consents")
    op.drop_index(op.f("ix_inclusion_transactions_day"), table_name="inclusion_transactions")

    op.drop_table("inclusion_transactions")
    op.drop_table("inclusion_settlements")
    op.drop_table("inclusion_programme")
    op.drop_table("inclusion_days")
    op.drop_table("inclusion_catalogue")
    op.drop_table("inclusion_balances")
    op.drop_table("inclusion_accounts")
