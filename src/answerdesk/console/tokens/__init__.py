"""Each person's own API tokens: create (shown once), list, revoke."""
