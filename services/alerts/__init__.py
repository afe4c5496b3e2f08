"""The alerts service: routing alerts to desks, acknowledgement, escalation and signed webhooks."""

# The catalogue must load before any context module: importing ``events.alerts`` first trips
# the circular import between ``events/catalogue.py`` and the context modules it collects.
import events.catalogue  # noqa: F401  (import for its side effect, see above)
