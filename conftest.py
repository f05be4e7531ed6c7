"""Test set-up shared by every suite.

The test database is created and migrated by the *owner* role, exactly as ``migrate`` does in
production, and the ``default`` alias then connects to it as the runtime role, so every test runs
under row-level security. Under pytest-xdist each worker gets its own database.
"""

import pytest

pytest_plugins = ["tests.fixtures"]


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_modify_db_settings,
):
    from django.db import connections

    owner, app = connections["owner"], connections["default"]
    with django_db_blocker.unblock():
        original_name = owner.settings_dict["NAME"]
        test_name = owner.creation.create_test_db(
            verbosity=0, autoclobber=True, keepdb=django_db_keepdb, serialize=False
        )
        # Transactional tests empty the tables between tests with TRUNCATE, which the runtime
        # role never has outside the test databases.
        with owner.cursor() as cursor:
            cursor.execute(
                "GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "
                + owner.ops.quote_name(app.settings_dict["USER"])
            )
        app.close()
        app.settings_dict["NAME"] = test_name
        # No connection kept between requests in the tests (a live server's threads, say): a
        # connection left open would keep the test database from being dropped at the end.
        for settings in (app.settings_dict, connections.settings["default"]):
            settings["CONN_MAX_AGE"] = 0
    yield
    with django_db_blocker.unblock():
        app.close()
        if not django_db_keepdb:
            owner.creation.destroy_test_db(original_name, verbosity=0, keepdb=False)
