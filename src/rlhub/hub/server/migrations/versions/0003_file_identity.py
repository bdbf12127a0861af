"""one file per install identity; results that could not be verified

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 15:30:00

`file_tags` holds, for every file, each wheel tag it serves (or `sdist`), keyed by (version, tag):
two files that differ only in the spelling of their name can no longer both exist. Existing files
are indexed here; a hub that already holds such duplicates stops with the list, since only its
operator can decide which bytes are the published ones.
"""

import sqlalchemy as sa
from alembic import op
from packaging.utils import parse_sdist_filename, parse_wheel_filename

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _tags(filename: str) -> set[str]:
    if filename.endswith(".whl"):
        return {str(tag) for tag in parse_wheel_filename(filename)[3]}
    parse_sdist_filename(filename)
    return {"sdist"}


def upgrade() -> None:
    table = op.create_table(
        "file_tags",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"]),
        sa.PrimaryKeyConstraint("version_id", "tag"),
    )
    with op.batch_alter_table("file_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_tags_file_id"), ["file_id"], unique=False)
    files = op.get_bind().execute(sa.text("SELECT id, version_id, filename FROM files ORDER BY id")).all()
    owner: dict[tuple[int, str], str] = {}
    rows, clashes = [], []
    for file_id, version_id, filename in files:
        for tag in sorted(_tags(filename)):
            if (version_id, tag) in owner:
                clashes.append(f"{filename} (same install as {owner[version_id, tag]})")
                continue
            owner[version_id, tag] = filename
            rows.append({"version_id": version_id, "tag": tag, "file_id": file_id})
    if clashes:
        raise RuntimeError(
            "these published files duplicate another file of their version; delete the ones that are "
            "not the published bytes, then migrate again: " + "; ".join(sorted(set(clashes)))
        )
    op.bulk_insert(table, rows)
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("verified")
    with op.batch_alter_table("file_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_tags_file_id"))
    op.drop_table("file_tags")
