"""Chat: model backends, token coalescing and the multi-user chat app."""
