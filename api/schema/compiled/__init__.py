"""The compiled path: a query the configuration's types can answer in SQL alone is turned into
one statement that builds the whole JSON response inside PostgreSQL, so no field is resolved
in Python. Anything else (mutations, reverse connections, a field hidden from the user, bad
input) goes through the resolvers, which remain the reference: the two must return the same
content (tests/graphql/test_compiled.py)."""
