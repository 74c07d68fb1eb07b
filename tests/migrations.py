"""Moving the test database along the migration history, for the tests of a data migration."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets=None):
    """Migrate to `targets` ([(app, migration)], the latest schema when None); the models as they are there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def latest_schema_afterwards():
    """Later tests expect the whole schema, whatever migration a test stopped at."""
    yield
    migrate_to()
