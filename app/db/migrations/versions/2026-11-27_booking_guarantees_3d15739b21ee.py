"""booking guarantees

Revision ID: 3d15739b21ee
Revises: 89646331e050
Create Date: 2026-11-27 16:52:42.108080+00:00
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = '3d15739b21ee'
down_revision: str | None = '89646331e050'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SQLITE_GUARD = """
    SELECT RAISE(ABORT, 'slot_not_bookable') WHERE NOT EXISTS (
        SELECT 1 FROM slot s JOIN rota_session r ON r.id = s.session_id
        WHERE s.id = NEW.slot_id AND s.status = 'open' AND r.status = 'published');
    SELECT RAISE(ABORT, 'patient_overlap') WHERE EXISTS (
        SELECT 1 FROM booking b
        WHERE b.patient_id = NEW.patient_id AND b.status = 'booked' AND b.id <> NEW.id
          AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at);
"""

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION booking_slot_bookable() RETURNS trigger AS $$
BEGIN
    IF NEW.status = 'booked' AND NOT EXISTS (
        SELECT 1 FROM slot s JOIN rota_session r ON r.id = s.session_id
        WHERE s.id = NEW.slot_id AND s.status = 'open' AND r.status = 'published') THEN
        RAISE EXCEPTION 'slot_not_bookable' USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    """Booking times (copied from the slot) and the database's own guarantees:
    one patient never in two overlapping live consultations, never a booking on a cancelled slot
    or session. Note for later SQLite migrations: a batch table rebuild of ``booking`` drops its
    triggers, which must then be created again."""
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('starts_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ends_at', advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('booked_by', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('wants_earlier', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE booking SET starts_at = (SELECT s.starts_at FROM slot s WHERE s.id = booking.slot_id), "
        "ends_at = (SELECT s.ends_at FROM slot s WHERE s.id = booking.slot_id)"
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.alter_column('starts_at', existing_type=advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False)
        batch_op.alter_column('ends_at', existing_type=advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False)
        batch_op.create_check_constraint('kind_known', "kind IN ('office', 'home_visit', 'teleconsultation')")

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        op.execute(
            "ALTER TABLE booking ADD CONSTRAINT ex_booking_patient_overlap EXCLUDE USING gist "
            "(patient_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (status = 'booked')"
        )
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER trg_booking_slot_bookable BEFORE INSERT OR UPDATE OF slot_id, status ON booking "
            "FOR EACH ROW EXECUTE FUNCTION booking_slot_bookable()"
        )
    else:
        op.execute(f"CREATE TRIGGER booking_guard_insert BEFORE INSERT ON booking WHEN NEW.status = 'booked' "
                   f"BEGIN {SQLITE_GUARD} END")
        op.execute(f"CREATE TRIGGER booking_guard_update BEFORE UPDATE OF slot_id, status, starts_at, ends_at "
                   f"ON booking WHEN NEW.status = 'booked' BEGIN {SQLITE_GUARD} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS trg_booking_slot_bookable ON booking')
        op.execute('DROP FUNCTION IF EXISTS booking_slot_bookable()')
        op.execute('ALTER TABLE booking DROP CONSTRAINT IF EXISTS ex_booking_patient_overlap')
    else:
        op.execute('DROP TRIGGER IF EXISTS booking_guard_insert')
        op.execute('DROP TRIGGER IF EXISTS booking_guard_update')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint('kind_known', type_='check')
        batch_op.drop_column('wants_earlier')
        batch_op.drop_column('booked_by')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('ends_at')
        batch_op.drop_column('starts_at')
