"""Tests that attack answerdesk's promises: isolation, authentication, limits, crashes."""
