"""The evidence service's composition root inside the gateway: key ring, blob store, uploads and
the read model, put on the app's state for the router."""

from __future__ import annotations

from fastapi import FastAPI

from services.evidence.ledger import Ledger
from services.evidence.settings import evidence_settings
from services.evidence.store import FileBlobStore
from services.evidence.uploads import Uploads
from services.kit.keys import install_key_ring
from services.kit.settings import Settings


def start_evidence(app: FastAPI, settings: Settings) -> Ledger:
    """Wire the evidence routes' dependencies; returns the ledger to stop at shutdown."""
    install_key_ring(settings)
    config = evidence_settings()
    store = FileBlobStore(config.dir)
    app.state.evidence_settings = config
    app.state.evidence_store = store
    app.state.evidence_uploads = Uploads(store)
    ledger = Ledger(settings).start()
    app.state.evidence_ledger = ledger
    return ledger
