"""Benchmark of certificate rendering; prints its figures.

    .venv/bin/python bench/certificates.py [--n 1000] [--workers 2] [--database URL]

For N certificates (issued in one organization, each with its own learner) it measures, in the
same run and on the same HTML:
  1. Relais' renderer, one process (``rendering.pdf_bytes``: sandboxed Jinja + WeasyPrint +
     disk cache write) vs plain WeasyPrint (``HTML(string).write_pdf``) on the pre-rendered HTML;
     Relais keeps each thread's WeasyPrint font configuration and parsed stylesheet between
     documents (``lms.core.pdf``), which plain WeasyPrint builds again for every PDF;
  2. the bulk export (``export.write_zip``: pool of warm processes, ZIP + CSV register) with an
     empty cache vs plain WeasyPrint in a pool of the same size (run before and after, to
     average out the machine's load), with and without the pool's start-up;
  3. peak memory: tracemalloc peak of the parent during exports of N/4 and N cached
     certificates (flat = independent of the count), and the process's max RSS.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import shutil
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import common as bench

from lms.accounts import services as accounts
from lms.accounts.models import Role
from lms.certificates import definitions, export, rendering
from lms.certificates import services as certs
from lms.certificates.models import Certificate
from lms.certificates.pool import PdfPool
from lms.courses.cohorts.services import create_cohort, enrol
from lms.courses.programs.services import copy_from_catalogue, load_catalogue
from lms.extensions import db


def _plain(args: tuple[str, str]) -> int:
    from weasyprint import CSS, HTML

    html, css = args
    return len(HTML(string=html).write_pdf(stylesheets=[CSS(string=css)]))


def _warm(_: object = None) -> None:
    import weasyprint  # noqa: F401


def main() -> None:
    parser = bench.options(n=1000, workers=os.cpu_count() or 1)
    parser.add_argument("--sequential", type=int, default=None,
                        help="certificates for the one-process comparison (default: min(N, 100))")
    args = parser.parse_args()
    app = bench.bench_app(args.database, wipe=True, BASE_URL="https://relais.example")
    tmp = app.instance_path
    n, workers = args.n, args.workers
    seq_n = args.sequential or min(n, 100)
    with app.app_context():
        load_catalogue()
        org = accounts.create_organization(slug="bench", name="Bench Formation SAS")
        trainer = accounts.provision_member(organization=org, email="t@bench.example",
                                            role=Role.TRAINER, display_name="Tess Trainer")
        program = copy_from_catalogue(organization=org,
                                      slug="parcours-ambassadeurs-6-semaines")
        cohort = create_cohort(program=program, name="Vague 1", pilot=False,
                               starts_on=date(2026, 9, 1),
                               trainers=[trainer.membership])
        t0 = time.perf_counter()
        for i in range(n):
            member = accounts.provision_member(
                organization=org, email=f"l{i}@bench.example", role=Role.LEARNER,
                display_name=f"Apprenant·e Numéro {i}", locale="fr" if i % 2 else "en")
            enrollment = enrol(cohort=cohort, membership=member.membership)
            certs.issue_manually(enrollment=enrollment, issued_by=trainer.membership.user,
                                 reason="bench")
            if i % 200 == 199:
                db.session.commit()
        db.session.commit()
        print(f"setup: {n} certificates issued in {time.perf_counter() - t0:.1f} s "
              f"(workers={workers}, cpus={os.cpu_count()})")
        ids = list(db.session.scalars(db.select(Certificate.id).order_by(Certificate.id)))
        template = definitions.load("default")
        cache = rendering.cache_dir()

        # 1. One process: Relais' renderer vs plain WeasyPrint, same HTML, interleaved halves.
        sample = [db.session.get(Certificate, i) for i in ids[:seq_n]]
        htmls = [rendering.render_html(c) for c in sample]
        _plain((htmls[0], template.css))  # warm up fonts
        relais_s = plain_s = 0.0
        for c, html in zip(sample, htmls, strict=True):
            t = time.perf_counter()
            rendering.pdf_bytes(c)
            relais_s += time.perf_counter() - t
            t = time.perf_counter()
            _plain((html, template.css))
            plain_s += time.perf_counter() - t
        print(f"one process, {seq_n} PDFs: Relais renderer {seq_n / relais_s:.1f}/s, "
              f"plain WeasyPrint {seq_n / plain_s:.1f}/s, ratio {plain_s / relais_s:.2f}")
        # A cache hit, for the record.
        t = time.perf_counter()
        for c in sample:
            rendering.pdf_bytes(c)
        print(f"cached PDFs served: {seq_n / (time.perf_counter() - t):.0f}/s")
        db.session.expunge_all()

        # 2. Bulk, all cores, empty cache: Relais' export vs plain WeasyPrint in a pool. The
        # machine's load drifts: plain runs before and after Relais, and their mean is used.
        shutil.rmtree(cache)
        t = time.perf_counter()
        all_html = [(rendering.render_html(db.session.get(Certificate, i)), template.css)
                    for i in ids]
        html_ms = (time.perf_counter() - t) / n * 1000
        db.session.expunge_all()
        ctx = multiprocessing.get_context("spawn")

        def plain_pool() -> float:
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_warm) as pool:
                list(pool.map(_plain, all_html[:workers]))  # warm
                t = time.perf_counter()
                for _ in pool.map(_plain, all_html, chunksize=4):
                    pass
                return time.perf_counter() - t

        plain_before = plain_pool()
        t = time.perf_counter()
        with PdfPool(workers) as warm_pool:  # the pool's start-up alone, for the record
            list(warm_pool._executor.map(_warm, range(workers)))
        startup_s = time.perf_counter() - t
        out = Path(tmp) / "export.zip"
        t = time.perf_counter()
        export.write_zip(out, ids, workers=workers)
        relais_pool_s = time.perf_counter() - t
        plain_after = plain_pool()
        all_html.clear()
        plain_pool_s = (plain_before + plain_after) / 2
        steady_s = max(relais_pool_s - startup_s, 1e-9)
        print(f"bulk, {n} PDFs, {workers} processes: Relais export (ZIP + register) "
              f"{n / relais_pool_s:.1f}/s with pool start-up ({startup_s:.1f} s), "
              f"{n / steady_s:.1f}/s without; plain WeasyPrint pool (warm) "
              f"{n / plain_pool_s:.1f}/s (before {n / plain_before:.1f}/s, after "
              f"{n / plain_after:.1f}/s); ratio {plain_pool_s / relais_pool_s:.2f} with "
              f"start-up, {plain_pool_s / steady_s:.2f} without; parent HTML (Jinja + QR) "
              f"{html_ms:.1f} ms per certificate; zip {out.stat().st_size / 1e6:.1f} MB")

        # 3. Memory of the export in the parent: N/4 vs N (cached PDFs, so the zip path).
        peaks = []
        for count in (max(1, n // 4), n):
            db.session.expunge_all()
            tracemalloc.start()
            export.write_zip(out, ids[:count], workers=1)
            peaks.append((count, tracemalloc.get_traced_memory()[1]))
            tracemalloc.stop()
        print("export peak traced memory (parent): " + ", ".join(
            f"{c} certificates {p / 1e6:.1f} MB" for c, p in peaks))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"max RSS: parent {rss:.0f} MB, largest worker {child:.0f} MB")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
