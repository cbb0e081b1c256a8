"""The ensemble's own logic, pure: the moderator's stop-or-continue decision (decision), agreement
between answers (consensus), the judge's ranking methods (ranking_methods), and the form an answer
must take: a JSON schema (answer_format) or tool calls (tool_use)."""
