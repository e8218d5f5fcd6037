"""CRM pages: an account's leads and contacts, their text messages and open deals."""
