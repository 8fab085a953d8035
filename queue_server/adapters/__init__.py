"""Adapters: the database, the event bus and files, behind the service layer's ports."""
