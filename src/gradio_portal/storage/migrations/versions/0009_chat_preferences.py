"""chat preferences: the default model and system prompt, and the models offered, as
administrators choose them on /admin/chat

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import gradio_portal.storage.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("default_model", sa.String(length=200), nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("offered_models", sa.JSON(), nullable=True),
        sa.Column(
            "updated_at", gradio_portal.storage.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_preferences")),
    )


def downgrade() -> None:
    op.drop_table("chat_preferences")
