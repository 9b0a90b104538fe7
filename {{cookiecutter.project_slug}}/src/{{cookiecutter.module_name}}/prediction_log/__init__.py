"""The prediction log: every answered prediction and every feedback label, in SQLite or PostgreSQL.

It owns its tables (`tables`) and their history (`migrations`), where they live (`store`: a
SQLite file or a PostgreSQL database shared by every replica), its one writer (`writer`, used by
the service) and the queries that read it back (`readers`, used by monitoring), so neither side
knows the other's code.
"""
