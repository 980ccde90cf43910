"""Question answering: retrieve passages from the store and answer with cited quotes."""
