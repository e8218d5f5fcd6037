"""The built-in CRM: leads, contacts, deals and the text messages carried into it.

The domain only: no HTTP and no command line. Writers take the account's
CRM lock (`lock_account_crm`) so concurrent workers never duplicate a lead.
"""
