"""The editors' admin: one module per model family. Importing the package registers them all."""

from papers.admin import main, subscriptions  # noqa: F401
