"""An account's dashboard: messages per day for 30 days, emergencies, time to delivery."""
