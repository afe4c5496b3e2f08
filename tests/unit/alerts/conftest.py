"""Shared set-up for the alerts domain tests.

``events.catalogue`` is imported first because importing ``events.alerts`` before the catalogue
trips a circular import in ``events/catalogue.py``; drop this line once the catalogue breaks it.
"""

import events.catalogue  # noqa: F401  (see the module docstring)
