"""The monthly leadership briefing (`cityops briefing`): a page per domain, assembled from the domains'
`briefing` hooks (or their indicators), printed to PDF through Chromium."""
