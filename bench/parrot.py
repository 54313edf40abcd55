"""Benchmark of near-identical post detection (the parrot effect, lms/impact/parrot.py): the
cost of comparing one cohort's texts in one window, all pairs, for growing numbers of texts.

    .venv/bin/python bench/parrot.py [--texts 2000]

Texts are about 40 words drawn from a 400-word vocabulary; one in five pastes one of ten
"announcements" with a word or two added, so matches are found as in real cohorts. Prints wall
and CPU time per size: the cost grows with the square of the texts, which is why they are
compared within a cohort and a window (hundreds), never across a whole organization.
"""

from __future__ import annotations

import random
import sys
import time

sys.path.insert(0, ".")

from lms.impact.parrot import near_identical  # noqa: E402


def texts(n: int, rnd: random.Random) -> list[tuple[int, str]]:
    """``n`` (person, text) pairs; one in five a pasted announcement."""
    vocabulary = [f"mot{i}" for i in range(400)]
    announcements = [" ".join(rnd.choices(vocabulary, k=40)) for _ in range(10)]
    out = []
    for i in range(n):
        if rnd.random() < 0.2:
            text = rnd.choice(announcements) + " " + rnd.choice(vocabulary)
        else:
            text = " ".join(rnd.choices(vocabulary, k=40))
        out.append((i % max(1, n // 3), text))
    return out


def main() -> None:
    """Print the time to find near-identical texts among 100 … ``--texts`` texts."""
    top = int(sys.argv[sys.argv.index("--texts") + 1]) if "--texts" in sys.argv else 2000
    rnd = random.Random(3)
    print(f"{'texts':>6} {'pairs':>10} {'wall s':>8} {'cpu s':>8} {'cpu µs/pair':>12} found")
    size = 100
    while size <= top:
        batch = texts(size, rnd)
        wall, cpu = time.perf_counter(), time.process_time()
        found = near_identical(batch)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        pairs = size * (size - 1) // 2
        print(f"{size:>6} {pairs:>10} {wall:>8.3f} {cpu:>8.3f} {1e6 * cpu / pairs:>12.2f} "
              f"{len(found)}")
        size *= 2


if __name__ == "__main__":
    main()
