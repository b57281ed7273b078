"""digest: turns the day's news into an attributed, event-clustered briefing."""

__version__ = "0.1.0"
