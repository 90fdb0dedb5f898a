"""Repositories: the only code that issues SQL. They take and return domain objects."""
