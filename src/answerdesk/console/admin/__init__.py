"""Admin pages: accounts and their scripts, users, everyone's tokens, the audit log."""
