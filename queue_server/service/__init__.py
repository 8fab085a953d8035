"""Use cases of the queue: issue, call, act on tickets, publish status. No web, no SQL here."""
