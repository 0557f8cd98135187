"""booking guard locks: the PostgreSQL trigger locks the slot and session it checks

Revision ID: 7c1e2a9d4b10
Revises: e66efb171de7
Create Date: 2026-11-27 17:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c1e2a9d4b10"
down_revision: str | None = "e66efb171de7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION booking_slot_bookable() RETURNS trigger AS $$
BEGIN
    -- FOR SHARE: a publication cancelling this slot or session waits for this booking (and then
    -- sends it to "to rebook"), or this booking waits for the publication (and is refused).
    IF NEW.status = 'booked' AND NOT EXISTS (
        SELECT 1 FROM slot s JOIN rota_session r ON r.id = s.session_id
        WHERE s.id = NEW.slot_id AND s.status = 'open' AND r.status = 'published'
        FOR SHARE OF s, r) THEN
        RAISE EXCEPTION 'slot_not_bookable' USING ERRCODE = '23514';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""

PG_FUNCTION_BEFORE = PG_FUNCTION.replace("\n        FOR SHARE OF s, r) THEN", ") THEN")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION_BEFORE)
