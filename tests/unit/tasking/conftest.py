"""Shared set-up for the tasking domain tests.

``events.catalogue`` is imported first because importing a context module (``events.tasking``,
``events.directory``) before the catalogue currently trips a circular import in
``events/catalogue.py``; drop this line once the catalogue breaks that cycle.
"""

import events.catalogue  # noqa: F401  (see the module docstring)
