"""A client's webhooks: register (secret shown once), list, disable, delete, deliveries, replay."""
