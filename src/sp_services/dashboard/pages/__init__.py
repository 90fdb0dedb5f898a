"""The dashboard's pages: one route module and one template each (dashboard/app.py lists them)."""
