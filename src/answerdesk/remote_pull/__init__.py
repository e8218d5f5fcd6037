"""Remote pull: copy messages from any Messages API into a local account (`sync pull`).

The package is named for what it does: `answerdesk.sync` is the CRM outbox.
"""

from answerdesk.remote_pull.checkpoints import source_key
from answerdesk.remote_pull.pulling import Outcome, Pull, PullResult

__all__ = ["Outcome", "Pull", "PullResult", "source_key"]
