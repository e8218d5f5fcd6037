"""answerdesk: the message desk of an answering service.

Agents take messages for client accounts; clients read them over the
Messages API (v1/v2) and, carried into their CRM, over a Zendesk Sell
compatible Text Messages API.
"""

__version__ = "0.1.0"
