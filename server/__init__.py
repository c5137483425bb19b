"""The central registry server (FastAPI + SQLite). Never imports Qt."""
