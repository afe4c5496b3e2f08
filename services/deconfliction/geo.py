"""Geometry of operation deconfliction: circles on the sphere, their H3 covers and overlaps.

Each operation's circle is covered with H3 cells at a resolution chosen from its radius, and at
every coarser resolution down to ``MIN_RESOLUTION``. Two overlapping circles A and B share a
point p; at the resolution m = min(res A, res B) both covers hold the cell containing p, so
looking up only the cells at that resolution finds every overlapping pair while keeping
unrelated operations of the same city apart. Candidates are then checked exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import h3

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG); the distance check and the overlap use the same sphere."""

MIN_RESOLUTION = 3
MAX_RESOLUTION = 10
CELLS_PER_RADIUS = 2.0
"""An operation is indexed at the finest resolution whose edge is at least radius / 2, so its
own cover stays a small disk (a few dozen cells) whatever the radius."""


@lru_cache(maxsize=32)
def edge_m(resolution: int) -> float:
    return float(h3.average_hexagon_edge_length(resolution, "m"))


def resolution_for(radius_m: float) -> int:
    """The finest resolution (MIN..MAX) whose cells are not much smaller than the circle."""
    for res in range(MAX_RESOLUTION, MIN_RESOLUTION - 1, -1):
        if edge_m(res) * CELLS_PER_RADIUS >= radius_m:
            return res
    return MIN_RESOLUTION


def disk_k(radius_m: float, resolution: int) -> int:
    """A grid distance from the centre cell that surely reaches every cell the circle touches.

    Measured over the globe (pentagons included), a point at distance r lies within
    ⌈r / average edge⌉ steps of the centre's cell; two more rings are margin. The disk is then
    trimmed to the cells the circle can touch, so the margin costs no index space.
    """
    return math.ceil(radius_m / edge_m(resolution)) + 2


def _circumradius_m(cell: str) -> float:
    lat, lon = h3.cell_to_latlng(cell)
    return max(distance_m(lat, lon, vlat, vlon) for vlat, vlon in h3.cell_to_boundary(cell))


def cover(latitude: float, longitude: float, radius_m: float, resolution: int) -> frozenset[str]:
    """H3 cells at ``resolution`` that together contain every point of the circle.

    A cell can hold a point of the circle only if its centre lies within the radius plus the
    cell's circumradius (the farthest vertex) of the circle's centre; the others are dropped.
    """
    centre = h3.latlng_to_cell(latitude, longitude, resolution)
    kept: set[str] = set()
    for cell in h3.grid_disk(centre, disk_k(radius_m, resolution)):
        lat, lon = h3.cell_to_latlng(cell)
        reach = radius_m + _circumradius_m(cell) * 1.01 + 1.0
        if distance_m(latitude, longitude, lat, lon) <= reach:
            kept.add(cell)
    return frozenset(kept)


def index_cells(latitude: float, longitude: float, radius_m: float) -> tuple[int, tuple[str, ...]]:
    """The operation's resolution and its cells at that and every coarser indexed resolution."""
    own = resolution_for(radius_m)
    cells: set[str] = set()
    for res in range(MIN_RESOLUTION, own + 1):
        cells |= cover(latitude, longitude, radius_m, res)
    return own, tuple(sorted(cells))


def cell_resolution(cell: str) -> int:
    return int(h3.get_resolution(cell))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); exact across the antimeridian and near the poles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Circle:
    latitude: float
    longitude: float
    radius_m: float


def circles_overlap(a: Circle, b: Circle) -> bool:
    """Whether two circles share at least a point."""
    return distance_m(a.latitude, a.longitude, b.latitude, b.longitude) <= a.radius_m + b.radius_m


def windows_overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether two half-open windows [start, end) share an instant; touching windows do not."""
    return a_start < b_end and b_start < a_end


def _toward(lat: float, lon: float, lat2: float, lon2: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` along the great circle from (lat, lon) toward (lat2, lon2)."""
    total = distance_m(lat, lon, lat2, lon2)
    if total == 0:
        return lat, lon
    f = metres / total
    d = total / EARTH_RADIUS_M
    p1, l1, p2, l2 = map(math.radians, (lat, lon, lat2, lon2))
    a = math.sin((1 - f) * d) / math.sin(d)
    b = math.sin(f * d) / math.sin(d)
    x = a * math.cos(p1) * math.cos(l1) + b * math.cos(p2) * math.cos(l2)
    y = a * math.cos(p1) * math.sin(l1) + b * math.cos(p2) * math.sin(l2)
    z = a * math.sin(p1) + b * math.sin(p2)
    lat_out = math.degrees(math.atan2(z, math.hypot(x, y)))
    lon_out = math.degrees(math.atan2(y, x))
    return lat_out, (lon_out + 540) % 360 - 180


def overlap_circle(a: Circle, b: Circle) -> Circle:
    """A circle covering the intersection of two overlapping circles: what both desks are told
    instead of the other operation's centre and radius.

    Worked in the plane along the line of centres (radii up to 100 km keep the error far below
    a metre): the lens spans [d − r_b, r_a] along that line, its chord lies at x = (d² + r_a² −
    r_b²) / 2d with half-length h, and its farthest points from the lens' middle are the ends of
    the chord.
    """
    d = distance_m(a.latitude, a.longitude, b.latitude, b.longitude)
    if d + b.radius_m <= a.radius_m:
        return b
    if d + a.radius_m <= b.radius_m:
        return a
    ra, rb = a.radius_m, b.radius_m
    near, far = d - rb, ra
    middle = (near + far) / 2
    chord_x = (d * d + ra * ra - rb * rb) / (2 * d)
    half_chord = math.sqrt(max(0.0, ra * ra - chord_x * chord_x))
    radius = max((far - near) / 2, math.hypot(chord_x - middle, half_chord))
    lat, lon = _toward(a.latitude, a.longitude, b.latitude, b.longitude, middle)
    return Circle(round(lat, 6), round(lon, 6), math.ceil(radius))


def candidates(
    own_resolution: int,
    cells: Iterable[str],
    cell_to_operations: dict[str, tuple[str, ...]],
    resolution_of: dict[str, int],
) -> set[str]:
    """Operations sharing a cell with these cells at the resolution that pairs them: a shared
    cell at resolution r counts when r is the coarser of the two operations' resolutions."""
    found: set[str] = set()
    for cell in cells:
        res = cell_resolution(cell)
        for other in cell_to_operations.get(cell, ()):
            if res == min(own_resolution, resolution_of[other]):
                found.add(other)
    return found
