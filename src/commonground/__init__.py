"""commonground: partners working together to protect vulnerable people and prevent harm early."""

__version__ = "0.1.0"
