"""Access control: accounts and roles, tokens, web sessions, login throttling, officers' scope."""
