"""The wire: Amazon-shaped HTTP on top of the services."""
