"""The role registry is the one list of services the CLI, supervisor, gateway and tests read."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from fastapi import APIRouter

from services import roles
from services.cli import _parser

ROOT = Path(__file__).resolve().parents[2]


def test_every_worker_role_builds_from_its_module() -> None:
    """Each worker role names a module with a ``build(settings)`` factory."""
    for entry in roles.ROLES:
        if entry.worker is not None:
            assert callable(importlib.import_module(entry.worker).build), entry.name


def test_every_router_resolves() -> None:
    """Each role's ``module:attribute`` names a FastAPI router, and each is mounted once."""
    mounted = roles.routers()
    for router, _ in mounted:
        assert isinstance(router, APIRouter)
    assert len({id(router) for router, _ in mounted}) == len(mounted)
    assert len(mounted) == sum(len(r.routers) + len(r.consulted) for r in roles.ROLES)


def test_every_gateway_part_resolves() -> None:
    """Each role's ``on_gateway`` names a callable the gateway's lifespan can call."""
    for entry in roles.ROLES:
        if entry.on_gateway is not None:
            module, _, attribute = entry.on_gateway.partition(":")
            assert callable(getattr(importlib.import_module(module), attribute)), entry.name


def test_the_cli_starts_every_process_role() -> None:
    """``interlock <role>`` exists for every worker and the gateway, read from the registry."""
    parser = _parser()
    for name in roles.process_roles():
        assert parser.parse_args([name]).command == name


def test_every_role_test_group_runs_in_make_test() -> None:
    """``make test`` runs each role's integration folder (TEST_GROUPS in the Makefile)."""
    makefile = (ROOT / "Makefile").read_text()
    groups = re.search(r"^TEST_GROUPS := (.*?)(?:\n(?!\t)(?=\S)|\n\n)", makefile, re.M | re.S)
    assert groups is not None
    listed = set(re.split(r"[\s+\\]+", groups.group(1)))
    for entry in roles.ROLES:
        assert entry.test_group is not None, entry.name
        assert (ROOT / entry.test_group).is_dir(), entry.test_group
        assert entry.test_group in listed, entry.test_group


def test_provisioning_creates_every_topic_a_role_reads() -> None:
    """The topics to provision include each one a role's worker reads."""
    provisioned = {spec.name for spec in roles.topics()}
    for entry in roles.ROLES:
        assert {spec.name for spec in entry.topics} <= provisioned, entry.name


def test_every_service_with_a_worker_or_a_router_is_a_role() -> None:
    """A service folder with a worker (``agents.py``) or a router (``http.py``) is registered: a
    service left out of the registry would be neither started nor mounted."""
    registered = {entry.name for entry in roles.ROLES}
    for folder in sorted((ROOT / "services").iterdir()):
        if (folder / "agents.py").exists() or (folder / "http.py").exists():
            assert folder.name in registered, folder.name


def test_unknown_role_is_named() -> None:
    """Asking for a role that is not registered says which."""
    with pytest.raises(LookupError, match="nope"):
        roles.role("nope")
