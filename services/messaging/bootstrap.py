"""The messaging routes' composition root inside the gateway: the read model and the directory
(the victims read model is the gateway's, on ``app.state.victims``)."""

from __future__ import annotations

from fastapi import FastAPI

from services.kit.directory import DirectoryView
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
        self.directory = DirectoryView(settings, name=f"{settings.topic_prefix}messaging")
        self.directory.start()
        app.state.messages = self.messages
        app.state.messaging_directory = self.directory

    def stop(self) -> None:
        self.messages.stop()
        self.directory.stop()
