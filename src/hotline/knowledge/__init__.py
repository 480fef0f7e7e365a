"""The knowledge base: articles operators answer from, with history, search and the FAQ."""
