"""sp-services: a stateful, wire-compatible Selling Partner API Services API v1 server."""

__version__ = "0.1.0"
