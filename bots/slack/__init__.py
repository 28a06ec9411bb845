"""The Slack bot, on slack-bolt: cited answers in threads, DMs, follow-ups, /coalition, feedback buttons."""
