"""Webhooks: signed POSTs of events to URLs a client registers.

endpoints.py registers URLs; events.py writes an event and its deliveries in
the transaction that caused it (a transactional outbox); delivery.py POSTs
due deliveries, retrying with backoff for 24 h; deliveries.py lists and
replays them. signing.py, ssrf.py and crypto.py hold the security.

Nothing here is imported by this module, so the hot paths that enqueue
events (taking a message) import only events.py.
"""

#: The event types a client can subscribe to.
EVENT_TYPES = ("message.created", "message.delivered", "crm.lead_created")
