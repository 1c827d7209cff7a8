"""The index: the record of what is indexed (SQLite), vectors (Chroma), keywords (BM25)."""
