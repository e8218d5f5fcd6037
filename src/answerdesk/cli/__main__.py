"""Run the command line as `python -m answerdesk.cli`."""

from answerdesk.cli import main

main()
