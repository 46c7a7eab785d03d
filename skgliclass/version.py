"""The package version, in one place (read by the build and by saved estimators)."""

__version__ = "0.1.0"
