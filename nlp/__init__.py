"""Analysis: sentences, norm mentions, stances and sentence embeddings."""
