"""platetrace: license-plate recognition and vehicle tracing for city camera networks."""

__version__ = "0.1.0"
