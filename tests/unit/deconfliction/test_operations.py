"""Operation deconfliction: overlapping places and windows of two teams, found through H3."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import h3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.deconfliction import (
    CancelOperation,
    MoveOperation,
    OperationCancelled,
    OperationConflictCleared,
    OperationConflictDetected,
    OperationConflictResolutionRecorded,
    OperationConflictResolved,
    OperationKind,
    OperationMoved,
    OperationPlace,
    OperationPlanned,
    PlanOperation,
    ResolveOperationConflict,
)
from events.envelope import Addressed, Event
from events.outcomes import Rejected
from services.deconfliction import geo
from services.deconfliction.domain import (
    OperationIndex,
    OperationRecord,
    conflicting,
    decide_operation,
    evolve_operation,
    operation_conflict_id,
    overlaps,
    prune,
)

from .builders import BG, DESKS, JIT, NL, RO, T0, actor

START = T0 + timedelta(days=1)


def place(
    lat: float = 51.9225,
    lon: float = 4.4792,
    radius: float = 200.0,
    start: datetime = START,
    hours: float = 4.0,
) -> OperationPlace:
    return OperationPlace(
        latitude=lat,
        longitude=lon,
        radius_m=radius,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
    )


def offset(
    lat: float, lon: float, north_m: float = 0.0, east_m: float = 0.0
) -> tuple[float, float]:
    """A point some metres north and east of another (small distances)."""
    dlat = north_m / 111_195.0
    dlon = east_m / (111_195.0 * math.cos(math.radians(lat)))
    return lat + dlat, (lon + dlon + 540) % 360 - 180


class Jit:
    """A JIT's operation index driven through decide and evolve, as the wiring would."""

    def __init__(self) -> None:
        self.state: OperationIndex | None = None

    def run(
        self,
        command: PlanOperation | MoveOperation | CancelOperation | ResolveOperationConflict,
    ) -> list[Addressed]:
        told = decide_operation(self.state, command, jit=JIT, now=T0, desks=DESKS)
        for item in told:
            event = item.event if isinstance(item, Addressed) else item
            assert isinstance(event, Event)
            self.state = evolve_operation(self.state, event, jit=JIT)
        assert all(isinstance(i, Addressed) for i in told)
        return [i for i in told if isinstance(i, Addressed)]

    def plan(self, team: str, op_id: str, where: OperationPlace) -> list[Addressed]:
        return self.run(
            PlanOperation(
                actor=actor(team), operation_id=op_id, kind=OperationKind.SEARCH, place=where
            )
        )


def _conflicts(told: list[Addressed]) -> list[OperationConflictDetected]:
    return [a.event for a in told if isinstance(a.event, OperationConflictDetected)]


def test_overlapping_operations_of_two_teams_conflict() -> None:
    """Two teams' operations 300 m apart with 200 m radii in overlapping windows raise a P1
    officer-safety conflict addressed to both teams, with both desks."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    lat, lon = offset(51.9225, 4.4792, east_m=300)
    told = jit.plan(RO, "op-ro", place(lat, lon, start=START + timedelta(hours=2)))
    [conflict] = _conflicts(told)
    assert conflict.severity == "P1"
    assert conflict.category == "officer_safety"
    assert conflict.teams == frozenset({NL, RO})
    assert {s.desk for s in conflict.sides} == {DESKS[NL], DESKS[RO]}
    assert conflict.conflict_id == operation_conflict_id(JIT, "op-nl", "op-ro")
    assert conflict.overlap_starts_at == START + timedelta(hours=2)
    assert conflict.overlap_ends_at == START + timedelta(hours=4)
    [item] = [a for a in told if isinstance(a.event, OperationConflictDetected)]
    assert item.releasable_to == frozenset({NL, RO})


def test_conflict_tells_the_overlap_not_the_other_operation() -> None:
    """The conflict carries where and when the areas overlap, never the other operation's
    kind, centre, radius or full window."""
    jit = Jit()
    secret_start = START - timedelta(hours=3)
    jit.plan(NL, "op-nl", place(radius=500, start=secret_start, hours=8))
    lat, lon = offset(51.9225, 4.4792, east_m=650, north_m=250)
    [conflict] = _conflicts(jit.plan(RO, "op-ro", place(lat, lon, radius=400)))
    dumped = json.dumps(conflict.model_dump(mode="json"))
    assert "search" not in dumped
    assert "51.9225" not in dumped
    assert "4.4792" not in dumped
    assert "500" not in dumped
    assert secret_start.isoformat().replace("+00:00", "") not in dumped
    centre = (conflict.overlap_latitude, conflict.overlap_longitude)
    assert geo.distance_m(51.9225, 4.4792, *centre) < 500
    assert geo.distance_m(lat, lon, *centre) < 400


def test_overlap_circle_covers_the_intersection() -> None:
    """Every point inside both circles lies inside the circle told as the overlap."""
    a = geo.Circle(51.9225, 4.4792, 500)
    lat, lon = offset(51.9225, 4.4792, east_m=700, north_m=100)
    b = geo.Circle(lat, lon, 400)
    area = geo.overlap_circle(a, b)
    for north in range(-600, 601, 25):
        for east in range(-200, 1001, 25):
            p = offset(51.9225, 4.4792, north_m=north, east_m=east)
            inside_both = (
                geo.distance_m(a.latitude, a.longitude, *p) <= a.radius_m
                and geo.distance_m(b.latitude, b.longitude, *p) <= b.radius_m
            )
            if inside_both:
                assert geo.distance_m(area.latitude, area.longitude, *p) <= area.radius_m + 1


def test_same_team_operations_do_not_conflict() -> None:
    """One team's own overlapping operations are its own business."""
    jit = Jit()
    jit.plan(NL, "op-1", place())
    assert _conflicts(jit.plan(NL, "op-2", place())) == []


def test_operations_in_windows_that_do_not_overlap_do_not_conflict() -> None:
    """The same place at different times, including windows that only touch, is no conflict."""
    jit = Jit()
    jit.plan(NL, "op-nl", place(hours=4))
    assert _conflicts(jit.plan(RO, "op-ro", place(start=START + timedelta(hours=4)))) == []
    assert _conflicts(jit.plan(BG, "op-bg", place(start=START - timedelta(hours=5)))) == []


def test_circles_just_apart_do_not_conflict_and_just_touching_do() -> None:
    """The exact check is the sum of radii: 1 m beyond is no conflict, 1 m within is."""
    jit = Jit()
    jit.plan(NL, "op-nl", place(radius=100))
    far = offset(51.9225, 4.4792, east_m=201)
    near = offset(51.9225, 4.4792, north_m=199)
    assert _conflicts(jit.plan(RO, "op-ro", place(*far, radius=100))) == []
    assert len(_conflicts(jit.plan(BG, "op-bg", place(*near, radius=100)))) == 1


def test_operations_across_an_h3_cell_boundary_conflict() -> None:
    """Two small operations either side of a cell edge still meet: the cover reaches over."""
    cell = h3.latlng_to_cell(51.9225, 4.4792, 10)
    (lat1, lon1), (lat2, lon2) = h3.cell_to_boundary(cell)[:2]
    mid = ((lat1 + lat2) / 2, (lon1 + lon2) / 2)
    centre = h3.cell_to_latlng(cell)
    inside = (mid[0] + (centre[0] - mid[0]) * 0.05, mid[1] + (centre[1] - mid[1]) * 0.05)
    outside = (mid[0] - (centre[0] - mid[0]) * 0.05, mid[1] - (centre[1] - mid[1]) * 0.05)
    assert h3.latlng_to_cell(*inside, 10) != h3.latlng_to_cell(*outside, 10)
    jit = Jit()
    jit.plan(NL, "op-nl", place(*inside, radius=5))
    assert len(_conflicts(jit.plan(RO, "op-ro", place(*outside, radius=5)))) == 1


def test_operations_of_different_sizes_meet_at_the_coarser_resolution() -> None:
    """A 20 km surveillance area and a 50 m search inside it, indexed at different
    resolutions, conflict."""
    jit = Jit()
    jit.plan(NL, "op-wide", place(radius=20_000))
    lat, lon = offset(51.9225, 4.4792, north_m=15_000)
    assert len(_conflicts(jit.plan(RO, "op-small", place(lat, lon, radius=50)))) == 1
    assert jit.state is not None
    assert jit.state.operations["op-wide"].resolution < jit.state.operations["op-small"].resolution


def test_operations_across_the_antimeridian_conflict() -> None:
    """Operations either side of 180° longitude, 400 m apart, conflict."""
    jit = Jit()
    jit.plan(NL, "op-west", place(-16.5, 179.999, radius=300))
    assert len(_conflicts(jit.plan(RO, "op-east", place(-16.5, -179.999, radius=300)))) == 1


def test_moving_away_clears_and_moving_back_detects_again() -> None:
    """A move out of the other's area clears the conflict; a move back re-raises it."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    [conflict] = _conflicts(jit.plan(RO, "op-ro", place()))
    lat, lon = offset(51.9225, 4.4792, north_m=5_000)
    away = jit.run(
        MoveOperation(actor=actor(RO), operation_id="op-ro", latitude=lat, longitude=lon)
    )
    assert [type(a.event) for a in away] == [OperationMoved, OperationConflictCleared]
    back = jit.run(
        MoveOperation(actor=actor(RO), operation_id="op-ro", latitude=51.9225, longitude=4.4792)
    )
    assert [c.conflict_id for c in _conflicts(back)] == [conflict.conflict_id]


def test_moving_the_window_apart_clears_the_conflict() -> None:
    """A move of only the time window out of the other's window clears the conflict."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    jit.plan(RO, "op-ro", place())
    later = START + timedelta(days=2)
    told = jit.run(
        MoveOperation(
            actor=actor(RO),
            operation_id="op-ro",
            starts_at=later,
            ends_at=later + timedelta(hours=1),
        )
    )
    assert [type(a.event) for a in told] == [OperationMoved, OperationConflictCleared]


def test_moving_into_another_operation_detects_a_conflict() -> None:
    """A move into another team's area and window raises a conflict."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    lat, lon = offset(51.9225, 4.4792, north_m=5_000)
    assert _conflicts(jit.plan(RO, "op-ro", place(lat, lon))) == []
    told = jit.run(
        MoveOperation(actor=actor(RO), operation_id="op-ro", latitude=51.9225, longitude=4.4792)
    )
    assert len(_conflicts(told)) == 1


def test_cancel_clears_the_conflict_and_frees_the_place() -> None:
    """Cancelling clears its open conflicts, and a later operation there conflicts no more."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    jit.plan(RO, "op-ro", place())
    told = jit.run(CancelOperation(actor=actor(RO), operation_id="op-ro", reason="called off"))
    assert [type(a.event) for a in told] == [OperationCancelled, OperationConflictCleared]
    assert jit.state is not None
    assert not any("op-ro" in ops for ops in jit.state.cell_to_operations.values())
    assert _conflicts(jit.plan(BG, "op-bg", place(radius=50))) != []  # still meets NL
    assert [c.teams for c in _conflicts(jit.plan(BG, "op-bg2", place(radius=50)))] == [
        frozenset({NL, BG})
    ]


def test_conflict_is_resolved_when_both_teams_resolve() -> None:
    """One team's resolution is recorded; the second team's resolves the conflict."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    [conflict] = _conflicts(jit.plan(RO, "op-ro", place()))
    first = jit.run(ResolveOperationConflict(actor=actor(NL), conflict_id=conflict.conflict_id))
    assert [type(a.event) for a in first] == [OperationConflictResolutionRecorded]
    second = jit.run(ResolveOperationConflict(actor=actor(RO), conflict_id=conflict.conflict_id))
    assert [type(a.event) for a in second] == [
        OperationConflictResolutionRecorded,
        OperationConflictResolved,
    ]
    assert all(a.releasable_to == frozenset({NL, RO}) for a in first + second)


def test_resolving_is_for_the_two_teams_once_each() -> None:
    """A third team gets the 404 of an unknown conflict; a team resolving twice gets 409."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    [conflict] = _conflicts(jit.plan(RO, "op-ro", place()))
    with pytest.raises(Rejected) as refused:
        jit.run(ResolveOperationConflict(actor=actor(BG), conflict_id=conflict.conflict_id))
    assert refused.value.status == 404
    jit.run(ResolveOperationConflict(actor=actor(NL), conflict_id=conflict.conflict_id))
    with pytest.raises(Rejected) as refused:
        jit.run(ResolveOperationConflict(actor=actor(NL), conflict_id=conflict.conflict_id))
    assert refused.value.status == 409


def test_only_the_planning_team_moves_or_cancels() -> None:
    """Another team moving or cancelling an operation gets exactly what an unknown id gets."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    with pytest.raises(Rejected) as refused:
        jit.run(CancelOperation(actor=actor(RO), operation_id="op-nl", reason="x"))
    assert (refused.value.status, refused.value.reason) == (404, "no operation op-nl")
    with pytest.raises(Rejected) as refused:
        jit.run(CancelOperation(actor=actor(RO), operation_id="op-none", reason="x"))
    assert refused.value.status == 404


def test_planning_twice_is_idempotent_and_reusing_an_id_is_a_conflict() -> None:
    """The same plan again does nothing; another plan under the same id is refused (409)."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    assert jit.plan(NL, "op-nl", place()) == []
    with pytest.raises(Rejected) as refused:
        jit.plan(NL, "op-nl", place(radius=999))
    assert refused.value.status == 409


def test_a_plan_whose_window_has_ended_is_refused() -> None:
    """An operation planned for a window already over is refused with 422."""
    with pytest.raises(Rejected) as refused:
        Jit().plan(NL, "op-nl", place(start=T0 - timedelta(days=1)))
    assert refused.value.status == 422


def test_plan_and_move_validate_their_fields() -> None:
    """A window ending before it starts, a radius out of range or a lone latitude is refused
    at the field."""
    with pytest.raises(ValueError, match="ends_at"):
        place(hours=-1)
    with pytest.raises(ValueError, match="radius_m"):
        place(radius=0)
    with pytest.raises(ValueError, match="longitude"):
        MoveOperation(actor=actor(NL), operation_id="op", latitude=1.0)


def test_a_move_to_an_invalid_window_is_refused() -> None:
    """Moving only the end before the start is refused with 422."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    with pytest.raises(Rejected) as refused:
        jit.run(MoveOperation(actor=actor(NL), operation_id="op-nl", ends_at=START))
    assert refused.value.status == 422


def test_planned_event_is_keyed_by_operation_and_keeps_the_commands_audience() -> None:
    """OperationPlanned goes out under the operation id with the command's own releasability."""
    [item] = Jit().plan(NL, "op-nl", place())
    assert isinstance(item.event, OperationPlanned)
    assert item.subject == "op-nl"
    assert item.releasable_to is None


def test_index_round_trips_through_json() -> None:
    """The per-JIT index survives the changelog: JSON out, JSON in, equal."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    jit.plan(RO, "op-ro", place())
    assert jit.state is not None
    assert OperationIndex.model_validate_json(jit.state.model_dump_json()) == jit.state


def test_prune_drops_operations_long_over() -> None:
    """Operations whose window ended over a day ago leave the index with their conflicts."""
    jit = Jit()
    jit.plan(NL, "op-nl", place())
    jit.plan(RO, "op-ro", place())
    assert jit.state is not None
    pruned = prune(jit.state, now=START + timedelta(days=3))
    assert pruned.operations == {}
    assert pruned.cell_to_operations == {}
    assert pruned.conflicts == {}


# --- property tests ---------------------------------------------------------------------------

_ops = st.lists(
    st.tuples(
        st.floats(min_value=-0.2, max_value=0.2),
        st.floats(min_value=-0.2, max_value=0.2),
        st.floats(min_value=1.0, max_value=30_000.0),
        st.integers(min_value=0, max_value=3),
    ),
    min_size=2,
    max_size=12,
)
_centres = st.sampled_from(
    [(51.92, 4.48), (44.43, 26.10), (-16.5, 179.9), (64.1, -21.9), (0.0, 0.0), (78.2, 15.6)]
)


def _record(op_id: str, team: str, where: OperationPlace) -> OperationRecord:
    resolution, cells = geo.index_cells(where.latitude, where.longitude, where.radius_m)
    return OperationRecord(
        operation_id=op_id,
        team=team,
        kind=OperationKind.SEARCH,
        place=where,
        resolution=resolution,
        cells=cells,
    )


@settings(max_examples=150, deadline=None)
@given(centre=_centres, specs=_ops)
def test_h3_candidates_find_every_pair_brute_force_finds(
    centre: tuple[float, float], specs: list[tuple[float, float, float, int]]
) -> None:
    """Every pair of operations that the all-pairs check finds overlapping is also found
    through shared H3 cells (the index never misses a conflict)."""
    index = OperationIndex(jit=JIT)
    records = []
    for n, (dlat, dlon, radius, hour) in enumerate(specs):
        lon = (centre[1] + dlon + 540) % 360 - 180
        where = place(centre[0] + dlat, lon, radius, start=START + timedelta(hours=hour))
        record = _record(f"op-{n}", f"XX-T{n}", where)
        records.append(record)
        index = evolve_operation(
            index,
            OperationPlanned(
                operation_id=record.operation_id,
                jit=JIT,
                team=record.team,
                kind=record.kind,
                place=where,
                planned_by="m1",
                planned_at=T0,
            ),
        )
    for a in records:
        brute = {b.operation_id for b in records if b is not a and overlaps(a, b)}
        found = {o.operation_id for o in conflicting(index, a)}
        assert brute <= found


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(min_value=-89.0, max_value=89.0),
    lon=st.floats(min_value=-180.0, max_value=180.0),
    radius=st.floats(min_value=1.0, max_value=100_000.0),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_cover_holds_every_point_of_the_circle(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    """Any point of the circle lies in a cell of its cover at every indexed resolution."""
    own, cells = geo.index_cells(lat, lon, radius)
    d = radius * fraction / geo.EARTH_RADIUS_M
    p1, l1, b = math.radians(lat), math.radians(lon), math.radians(bearing)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(
        math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
    )
    point = (math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180)
    held = set(cells)
    for res in range(geo.MIN_RESOLUTION, own + 1):
        assert h3.latlng_to_cell(*point, res) in held
