"""Retrieval: which paragraphs answer a question, within the user's filters.

``scope`` reads what the question names, ``retriever`` gathers candidates from the whole
corpus and ranks them with ``features`` and ``rerank``.
"""

from pcc_assistant.retrieve.filters import Filters
from pcc_assistant.retrieve.retriever import Retrieval, Retriever
from pcc_assistant.retrieve.scope import mentions_month, read_scope

__all__ = ["Filters", "Retrieval", "Retriever", "mentions_month", "read_scope"]
