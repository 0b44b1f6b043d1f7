"""Who uploaded each attachment, and device tokens that expire and renew

Revision ID: 20261201_2100_edges
Revises: 20261201_2200_open_case_function

An attachment's bytes are stored once, but a tablet that only names a hash another tablet
uploaded must not gain the file: every upload is recorded (by whom, from which tablet), and a
submission's attachment counts only when a tablet of the record's village uploaded it.
A device token now expires (devices.token_expires_at); a tablet renews it in the background,
and the token it renewed with stays valid a short while in case the answer was lost.
"""
import sqlalchemy as sa
from alembic import op

revision = "20261201_2100_edges"
down_revision = "20261201_2200_open_case_function"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachment_uploads",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["attachments.sha256"], name=op.f("fk_attachment_uploads_sha256_attachments")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_attachment_uploads_person_id_people")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_attachment_uploads_device_id_devices")),
        sa.PrimaryKeyConstraint("sha256", "person_id", name=op.f("pk_attachment_uploads")),
    )
    op.create_index("ix_attachment_uploads_device_id", "attachment_uploads", ["device_id"])
    # What was uploaded before: by the tablet recorded on the attachment.
    op.execute("INSERT INTO attachment_uploads (sha256, person_id, device_id, uploaded_at)"
               " SELECT a.sha256, d.person_id, a.device_id, a.uploaded_at FROM attachments a"
               " JOIN devices d ON d.id = a.device_id")
    op.add_column("devices", sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("devices", sa.Column("previous_token_hash", sa.LargeBinary(length=32), nullable=True))
    op.add_column("devices", sa.Column("previous_token_expires_at", sa.DateTime(timezone=True), nullable=True))
    # Tablets enrolled before get the default lifetime from now, not an expiry in the past.
    op.execute("UPDATE devices SET token_expires_at = now() + interval '30 days'")
    op.alter_column("devices", "token_expires_at", nullable=False)
    op.create_index("ix_devices_previous_token_hash", "devices", ["previous_token_hash"])


def downgrade() -> None:
    op.drop_index("ix_devices_previous_token_hash", table_name="devices")
    op.drop_column("devices", "previous_token_expires_at")
    op.drop_column("devices", "previous_token_hash")
    op.drop_column("devices", "token_expires_at")
    op.drop_index("ix_attachment_uploads_device_id", table_name="attachment_uploads")
    op.drop_table("attachment_uploads")
