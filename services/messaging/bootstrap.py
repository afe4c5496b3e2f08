"""The messaging routes' composition root inside the gateway: the read model of threads (the
directory and the victims read model are the gateway's own, on ``app.state.directory`` and
``app.state.victims``, shared by every router)."""

from __future__ import annotations

from fastapi import FastAPI

from services.kit.keys import install_key_ring
from services.kit.settings import Settings
from services.kit.victims import Victims
from services.messaging.ledger import Messages


class Messaging:
    """What the messaging routes need, started and stopped with the gateway."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        install_key_ring(settings)
        victims: Victims = app.state.victims
        self.messages = Messages(settings, victims).start()
        app.state.messages = self.messages

    def stop(self) -> None:
        self.messages.stop()
