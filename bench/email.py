"""The email size budget on a wire-heavy day: how much of the edition the email carries.

    python -m bench.email                         # the 10k corpus, wire-heavy (one day)
    python -m bench.email --wire 0                # the 10k corpus as bench.pipeline uses it
    python -m bench.email --size 2000 --max-html-bytes 150000

Runs ``digest.pipeline.run_once`` over the synthetic corpus (``bench.corpus``: templated
wire sentences that many outlets repeat, and wire copies stored as near-duplicates) into a
scratch store (``--wire``: the share of events newswire copies repeat; 0.3 makes about
half of the articles copies), then builds the edition's email the way ``digest.mailer``
does and prints one table row: threads in the edition, the HTML part with every thread,
the threads the budget lets through and the HTML part sent; then the edition page's size,
the copies stored and the longest attribution (outlet names after one sentence).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bench.corpus import START, write_dumps

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO / "var" / "bench"


def measure(size: int, max_html_bytes: int | None, wire: float) -> dict[str, int]:
    from digest.config import load_settings
    from digest.ledger import Ledger
    from digest.mailer import email_parts
    from digest.pipeline import RunOptions, edition_briefing, run_once
    from digest.render import make_environment
    from digest.store import Store

    folder = write_dumps(size, CORPORA, wire=wire)
    with tempfile.TemporaryDirectory() as tmp:
        flags = [f"store.path='{tmp}/digest.sqlite3'", f"output.dir='{tmp}/output'"]
        settings = load_settings(None, environ={}, overrides=flags)
        budget = max_html_bytes or settings.email.max_html_bytes
        now = START + timedelta(days=-(-size // 10_000) + 1)
        with Store(settings.store.path) as store:
            report = run_once(
                settings, now=now, store=store, options=RunOptions(day=now.date(), inputs=(folder,))
            )
            edition = Ledger(store).latest_published()
            if edition is None:
                raise SystemExit("the run published nothing")
            briefing = edition_briefing(store, settings, edition, now=edition.produced_at)
        env = make_environment()
        full = email_parts(env, briefing, max_html_bytes=10**9, site_url="https://news.example/")
        sent = email_parts(env, briefing, max_html_bytes=budget, site_url="https://news.example/")
        page = (settings.output.dir / briefing.folder / "index.html").read_bytes()
    return {
        "budget": budget,
        "threads": len(briefing.threads),
        "full_html": len(full.html.encode()),
        "shown": sent.shown,
        "sent_html": len(sent.html.encode()),
        "page": len(page),
        "copies": report.duplicates,
        "longest_attribution": max(
            (len(s.outlets) for t in briefing.threads for s in t.sentences), default=0
        ),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="articles in the corpus")
    parser.add_argument("--wire", type=float, default=0.3, help="share of wire-copied events")
    parser.add_argument("--max-html-bytes", type=int, help="default: [email].max_html_bytes")
    args = parser.parse_args(argv)
    row = measure(args.size, args.max_html_bytes, args.wire)
    print(f"corpus {args.size:,} articles (wire {args.wire:g}), budget {row['budget']:,} bytes")
    print("| threads | full HTML | threads sent | HTML sent |")
    print("|---:|---:|---:|---:|")
    print(
        f"| {row['threads']} | {row['full_html']:,} B | {row['shown']} | {row['sent_html']:,} B |"
    )
    print(
        f"edition page {row['page']:,} B; duplicates stored {row['copies']:,};"
        f" longest attribution {row['longest_attribution']} outlets"
    )


if __name__ == "__main__":
    main()
