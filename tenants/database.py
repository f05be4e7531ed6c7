"""Creating the platform's database on a server given by ``DATABASE_URL``, when it is missing."""

from django.db import OperationalError, connections


def ensure_database_exists(alias: str = "owner") -> bool:
    """Create the alias's database through the server's maintenance database; True if created.

    The embedded server's bootstrap does this itself; on a given server the owner role needs
    CREATEDB, or the database must exist already.
    """
    import psycopg2
    from psycopg2 import sql

    settings_dict = connections[alias].settings_dict
    params = connections[alias].get_connection_params()
    params["dbname"] = "postgres"
    try:
        conn = psycopg2.connect(**params)
    except psycopg2.OperationalError as error:
        raise OperationalError(str(error)) from error
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings_dict["NAME"]])
            if cursor.fetchone():
                return False
            cursor.execute(
                sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(
                    sql.Identifier(settings_dict["NAME"])
                )
            )
            return True
    finally:
        conn.close()
