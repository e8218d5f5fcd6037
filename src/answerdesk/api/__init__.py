"""The HTTP faces of answerdesk. Each translates the domain's errors into its own envelope."""
