"""``pcc chat``: the Textual app a panel member asks questions in before a meeting.

Textual types live only in this package. ``session``, ``scope`` and ``highlight`` are plain
Python (the saved conversation, the report filter, the sentences to highlight), so they
can be used and tested without a terminal. Nothing here imports a model or a database:
the app calls :class:`pcc_assistant.ask.Assistant` from a worker thread.
"""
