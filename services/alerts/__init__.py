"""The alerts service: routing alerts to desks, acknowledgement, escalation and signed webhooks."""
