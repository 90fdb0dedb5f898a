"""Use cases: load through repositories, apply domain rules, save. They never commit."""
