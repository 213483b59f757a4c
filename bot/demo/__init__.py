"""`leadrouter demo`: the real bot against a local Slack workspace, shown in a browser.

Why a product surface and not a test: a sales team evaluating Leadrouter, or a rep being
trained, sees what reps see (DM cards, channel posts with Claim, `/leads`, App Home,
SLA reminders and escalations) without a Slack workspace or a token. Everything behind
the page is the real app: the database, routing, timers and the outbox; only Slack is
the local workspace of :mod:`bot.localslack`.
"""
