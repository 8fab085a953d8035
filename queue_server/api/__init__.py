"""HTTP and WebSocket boundary (FastAPI). Translates requests to use cases and errors to JSON."""
