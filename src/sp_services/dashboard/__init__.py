"""The dispatcher dashboard (docs/design.md §8): server-rendered pages at /dashboard, in the API's
own process, calling the same services as the API (never repositories)."""
