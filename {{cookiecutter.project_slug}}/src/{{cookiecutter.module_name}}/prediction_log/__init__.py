"""The prediction log: every answered prediction and every feedback label, in one SQLite file.

It owns its tables (`tables`), its one writer (`writer`, used by the service) and the queries
that read it back (`readers`, used by monitoring), so neither side knows the other's code.
"""
