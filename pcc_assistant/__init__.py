"""pcc-assistant: answers from Police and Crime Panel reports, citing their own paragraphs."""

__version__ = "0.1.0"
