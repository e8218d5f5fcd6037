"""Signing in and out, and setting a password through an e-mailed link."""
