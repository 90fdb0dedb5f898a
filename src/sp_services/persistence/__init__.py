"""All SQL lives here: tables, repositories, the unit of work and the migrations."""
