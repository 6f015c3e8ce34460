"""candidate_search_facts and candidate_search_text: what the degraded search reads, kept with each change

Revision ID: 5c1f0e9a7b21
Revises: a3f9c2e7d418
Create Date: 2026-11-30 20:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1f0e9a7b21"
down_revision = "a3f9c2e7d418"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "candidate_search_facts",
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("has_public", sa.Boolean(), nullable=False),
        sa.Column("has_active", sa.Boolean(), nullable=False),
        sa.Column("sort_key", sa.BigInteger(), nullable=False),
        sa.Column("max_stage", sa.Integer(), nullable=True),
        sa.Column("positive_ratio", sa.Float(), nullable=True),
        sa.Column("has_strong_no", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_candidate_search_facts_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_candidate_search_facts_candidate_id_candidate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_candidate_search_facts")),
    )
    with op.batch_alter_table("candidate_search_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_candidate_search_facts_default",
            ["agency_id", "listed", "has_active", sa.text("sort_key DESC"), "candidate_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_candidate_search_facts_all",
            ["agency_id", "listed", sa.text("sort_key DESC"), "candidate_id"],
            unique=False,
        )
    op.create_table(
        "candidate_search_text",
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("pdf_only", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_candidate_search_text_agency_id_agency"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidate.id"],
            name=op.f("fk_candidate_search_text_candidate_id_candidate"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("candidate_id", name=op.f("pk_candidate_search_text")),
    )
    with op.batch_alter_table("candidate_search_text", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_candidate_search_text_agency_id"), ["agency_id"], unique=False)
    # Backfilled by 7d2e4b9c1a53, which reshapes candidate_search_text: the app's statements
    # (search_sync.facts) write columns that do not exist at this revision.


def downgrade():
    with op.batch_alter_table("candidate_search_text", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_candidate_search_text_agency_id"))
    op.drop_table("candidate_search_text")
    with op.batch_alter_table("candidate_search_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_candidate_search_facts_all")
        batch_op.drop_index("ix_candidate_search_facts_default")
    op.drop_table("candidate_search_facts")
