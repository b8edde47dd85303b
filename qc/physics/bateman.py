"""One decay chain's Bateman solution: the decay matrix of every nuclide reachable from a set
of roots, its eigen-decomposition, and activities for a whole array of times at once.

The Bateman equations dN/dt = M N are solved by eigen-decomposition of the decay matrix M of
each chain: M = C diag(-lambda) C^-1, so N(t) = C exp(-lambda t) C^-1 N0. C and C^-1 are
built once per chain (the same formulation radioactivedecay uses, but per chain and for a
whole array of times in one matrix product).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .nuclides import NuclearData

_EXP_FLOOR = 700.0
_BLOCK = 8192


@dataclass(frozen=True, eq=False)
class Chain:
    """The decay system reachable from a set of nuclides, with its eigen-decomposition."""

    nuclides: tuple[str, ...]  # topological order: every parent before its progeny
    index: dict[str, int]
    lam: np.ndarray  # decay constants, s^-1
    matrix: np.ndarray  # decay matrix M (dN/dt = M N)
    lam_c: np.ndarray  # diag(lambda) @ C: eigen-amplitudes -> activities
    c_inv: np.ndarray | None  # None when M is defective (two linked equal half-lives)

    def activities(self, atoms0: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Activities (Bq), shape (nuclides, times), from atom numbers at t=0."""
        if times.size == 0:
            return np.zeros((len(self.lam), 0))
        if self.c_inv is None:
            return self._activities_by_expm(atoms0, times)
        amplitudes = self.c_inv @ atoms0
        live = amplitudes != 0.0  # skip modes the inventory does not excite
        lam, lam_c, amplitudes = self.lam[live], self.lam_c[:, live], amplitudes[live, None]
        result = np.empty((len(self.lam), times.size))
        # in cache-sized blocks: exp over (modes x times) dominates, and a small matmul stays
        # on one BLAS thread instead of contending for the cores
        for start in range(0, times.size, _BLOCK):
            weights = np.multiply.outer(-lam, times[start : start + _BLOCK])
            # exp is several times slower on arguments that (nearly) underflow, so terms
            # below exp(-_EXP_FLOOR) ~ 1e-304 are set to the 0 they would round to anyway
            negligible = weights < -_EXP_FLOOR
            np.maximum(weights, -_EXP_FLOOR, out=weights)
            np.exp(weights, out=weights)
            np.copyto(weights, 0.0, where=negligible)
            weights *= amplitudes
            np.matmul(lam_c, weights, out=result[:, start : start + _BLOCK])
        # the sum of exponentials can dip below zero by round-off; activity cannot
        np.maximum(result, 0.0, out=result)
        return result

    def _activities_by_expm(self, atoms0: np.ndarray, times: np.ndarray) -> np.ndarray:
        from scipy.linalg import expm

        # expm is exact on the diagonal of an upper-triangular matrix, so work with M^T
        stacked = np.multiply.outer(times, self.matrix.T)
        atoms = atoms0 @ expm(stacked)  # (times, nuclides)
        result = (atoms * self.lam).T.copy()
        np.maximum(result, 0.0, out=result)
        return result


def topological_order(roots: Sequence[str], progeny: Mapping[str, Sequence[tuple[str, float]]]):
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        for daughter, _ in progeny[name]:
            if daughter not in seen:
                visit(daughter)
        order.append(name)

    for root in roots:
        if root not in seen:
            visit(root)
    return order[::-1]


def build_chain(roots: Sequence[str], lam_of: Mapping[str, float], data: NuclearData) -> Chain:
    nuclides = topological_order(roots, data.progeny)
    index = {name: i for i, name in enumerate(nuclides)}
    lam = np.array([lam_of[name] for name in nuclides])
    size = len(nuclides)

    matrix = np.diag(-lam)
    for j, parent in enumerate(nuclides):
        for daughter, fraction in data.progeny[parent]:
            matrix[index[daughter], j] += fraction * lam[j]

    vectors = eigenvectors(matrix, lam)
    if vectors is None:
        return Chain(tuple(nuclides), index, lam, matrix, np.zeros((size, size)), None)
    c, c_inv = vectors
    return Chain(tuple(nuclides), index, lam, matrix, lam[:, None] * c, c_inv)


def eigenvectors(matrix: np.ndarray, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Right (C) and left (C^-1) eigenvectors of the lower-triangular decay matrix M.

    Column j of C and row i of C^-1 belong to the eigenvalues -lambda_j and -lambda_i:
      C_ij    = sum_{j<=k<i} M_ik C_kj / (lambda_i - lambda_j),     C_jj = 1
      Cinv_ij = sum_{j<k<=i} Cinv_ik M_kj / (lambda_j - lambda_i),  Cinv_ii = 1
    Both come from the same recursion rather than a numerical inverse, which keeps the early
    ingrowth (where terms cancel) accurate to radioactivedecay's exact-arithmetic matrices.
    None if two linked nuclides share a decay constant (M is then defective).
    """
    size = len(lam)
    c, c_inv = np.eye(size), np.eye(size)
    for j in range(size):
        column = right_eigenvector(matrix, lam, j)
        if column is None:
            return None
        c[:, j] = column
    for i in range(size):
        for j in reversed(range(i)):  # Cinv row i needs columns > j of the same row
            drain = c_inv[i, j + 1 : i + 1] @ matrix[j + 1 : i + 1, j]
            if drain != 0.0:
                if _tied(lam[i], lam[j]):
                    return None
                c_inv[i, j] = drain / (lam[j] - lam[i])
    return c, c_inv


def right_eigenvector(matrix: np.ndarray, lam: np.ndarray, j: int) -> np.ndarray | None:
    """Column j of C (see eigenvectors), or None if a descendant of j shares its lambda."""
    column = np.zeros(len(lam))
    column[j] = 1.0
    for i in range(j + 1, len(lam)):
        feed = matrix[i, j:i] @ column[j:i]
        if feed != 0.0:
            if _tied(lam[i], lam[j]):
                return None
            column[i] = feed / (lam[i] - lam[j])
    return column


def _tied(lam_a: float, lam_b: float) -> bool:
    return abs(lam_a - lam_b) <= 1e-9 * max(lam_a, lam_b)



def reachability(chain: Chain) -> np.ndarray:
    """reach[i, j]: j is i or a descendant of i."""
    size = len(chain.nuclides)
    reach = np.eye(size, dtype=bool)
    linked = (chain.matrix != 0.0).T  # linked[parent, daughter]
    for i in reversed(range(size)):  # topological order: descendants are already complete
        for j in np.flatnonzero(linked[i]):
            if j != i:
                reach[i] |= reach[j]
    return reach
