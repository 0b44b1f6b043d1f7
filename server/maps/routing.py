"""Walking routes: order a team's households from a start point (pure: no Flask, no database).

OR-Tools solves the open path (a dummy end node at zero distance from every stop, so the route
need not come back). Without OR-Tools, nearest neighbour then 2-opt: a weaker but sane order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

try:  # pragma: no cover - exercised when OR-Tools is missing
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2
except ImportError:  # pragma: no cover
    pywrapcp = None

Point = tuple[float, float]  # (lon, lat), WGS84
EARTH_RADIUS_M = 6371008.8


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance (haversine): walking routes span a few km, so this is plenty."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def route_length(start: Point, points: Sequence[Point], order: Sequence[int]) -> float:
    length, here = 0.0, start
    for i in order:
        length += distance_m(here, points[i])
        here = points[i]
    return length


def order_route(start: Point, points: Sequence[Point], time_limit_s: float = 1.0, use_ortools: bool = True) -> list[int]:
    """Indices of `points` in walking order from `start` (an open path)."""
    n = len(points)
    if n <= 2:
        return sorted(range(n), key=lambda i: distance_m(start, points[i]))
    if use_ortools and pywrapcp is not None:
        return _ortools(start, points, time_limit_s)
    return _two_opt(start, points, _nearest_neighbour(start, points))


def _ortools(start: Point, points: Sequence[Point], time_limit_s: float) -> list[int]:
    # nodes: 0 = start, 1..n = points, n+1 = the free end
    nodes = [start, *points]
    n = len(nodes)
    matrix = [[int(distance_m(a, b)) for b in nodes] + [0] for a in nodes] + [[0] * (n + 1)]
    manager = pywrapcp.RoutingIndexManager(n + 1, 1, [0], [n])
    routing = pywrapcp.RoutingModel(manager)

    def cost(i, j):
        return matrix[manager.IndexToNode(i)][manager.IndexToNode(j)]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(cost))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    # Guided local search runs until the limit; a small list is solved long before it.
    params.time_limit.FromMilliseconds(max(50, int(min(time_limit_s, 0.01 * n + 0.05) * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:  # pragma: no cover - an open path always has a solution
        return _two_opt(start, points, _nearest_neighbour(start, points))
    order, index = [], routing.NextVar(routing.Start(0))
    index = solution.Value(index)
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index) - 1)
        index = solution.Value(routing.NextVar(index))
    return order


def _nearest_neighbour(start: Point, points: Sequence[Point]) -> list[int]:
    left, order, here = set(range(len(points))), [], start
    while left:
        nxt = min(left, key=lambda i: distance_m(here, points[i]))
        order.append(nxt)
        left.remove(nxt)
        here = points[nxt]
    return order


def _two_opt(start: Point, points: Sequence[Point], order: list[int]) -> list[int]:
    best, best_len = order[:], route_length(start, points, order)
    improved = True
    while improved:
        improved = False
        for i in range(len(best) - 1):
            for j in range(i + 1, len(best)):
                candidate = best[:i] + best[i:j + 1][::-1] + best[j + 1:]
                length = route_length(start, points, candidate)
                if length < best_len - 1e-6:
                    best, best_len, improved = candidate, length, True
    return best


# --- GCJ-02 display conversion ------------------------------------------------------------------
# Chinese commercial basemaps (高德, 腾讯) draw in GCJ-02; points stay stored in WGS84 and are only
# shifted for display on such a basemap. The published forward transform (Krasovsky 1940).
_A = 6378245.0
_EE = 0.00669342162296594323


def _out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> Point:
    """Shift a WGS84 point to GCJ-02 for display; outside China it is unchanged."""
    if _out_of_china(lon, lat):
        return lon, lat
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat
