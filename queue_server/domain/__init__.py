"""The queue's pure domain: offices, categories, counters, tickets and their rules.

Imports only the standard library (and the `holidays` calendar): no web framework, no database,
no clock reads. Time is always passed in.
"""
