"""What an operator watches: request ids and JSON logs, Prometheus metrics, readiness, heartbeats, Sentry.

Reads every app's tables through `django.apps` (never imports an app), and holds no product rule.
"""
