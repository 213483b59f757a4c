"""The admin feature: `/leadrouter` and its screens, a module per screen with its view,
the parsing of what it submits, and its handlers (`menu`, `team`, `rep`, `rules`, `sla`,
`history`, `yaml_io`), on shared form primitives (`forms`) and handler plumbing (`base`).
"""
