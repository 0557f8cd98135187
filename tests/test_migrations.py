"""The migrations build exactly the schema the models describe, from an empty database."""

from app.db.migrate import current_revision, schema_differences


def test_an_empty_database_migrated_to_head_matches_the_models(engine):
    assert schema_differences(engine) == []


def test_the_database_is_at_the_latest_revision(engine):
    from alembic.script import ScriptDirectory

    from app.db.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current_revision(engine) == head
