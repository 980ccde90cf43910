"""Indexing: load articles, clean them, chunk them and store them in Chroma."""
