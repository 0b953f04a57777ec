"""``emi leaderboard submit|show|export``: the local leaderboard store."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``leaderboard`` command and its ``submit``, ``show`` and ``export`` actions."""
    parser = subparsers.add_parser(
        "leaderboard",
        help="submit to, show or export the leaderboard",
        description="The leaderboard store: $EMI_SUBMISSIONS_DIR or ./submissions. Ground truth: "
        "$EMI_GROUND_TRUTH_VAL / $EMI_GROUND_TRUTH_TEST or --truth. Daily limit: $EMI_DAILY_LIMIT (default 5).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    submit = actions.add_parser("submit", help="validate, score and store a submission (prints the entry as JSON)")
    submit.add_argument("--team", required=True, help="team name (letters, digits, spaces, '.', '_', '-')")
    submit.add_argument("--split", required=True, help="val or test")
    submit.add_argument("--pred", required=True, metavar="P.csv", help="predictions CSV")
    submit.add_argument("--description", default="", help="free text: method, model, notes")
    submit.add_argument(
        "--truth", metavar="T.csv", help="ground truth of the split (default: $EMI_GROUND_TRUTH_<SPLIT>)"
    )
    submit.set_defaults(func=run_submit)

    show = actions.add_parser("show", help="print the ranking of a split")
    show.add_argument("--split", default="val", help="val or test (default: %(default)s)")
    show.add_argument("--all", action="store_true", help="every scored submission, not only each team's best")
    show.add_argument("--json", action="store_true", help="print a JSON array")
    show.set_defaults(func=run_show)

    export = actions.add_parser("export", help="write every submission to a spreadsheet-safe CSV")
    export.add_argument("out", metavar="OUT.csv")
    export.set_defaults(func=run_export)

    for action in (submit, show, export):
        action.add_argument(
            "--store", metavar="DIR", help="store folder (default: $EMI_SUBMISSIONS_DIR or ./submissions)"
        )


def run_submit(args: argparse.Namespace) -> int:
    """Submit; print the stored entry. A rejected file is stored too: its reasons go to stderr, exit 2."""
    from emi_core.leaderboard import Leaderboard, SubmissionRejected

    board = Leaderboard(args.store, ground_truth={args.split: args.truth} if args.truth else None)
    try:
        entry = board.submit(args.team, args.split, args.pred, args.description)
    except SubmissionRejected as rejected:
        print(json.dumps(rejected.entry.to_dict(), indent=2))
        raise
    print(json.dumps(entry.to_dict(), indent=2))
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print the ranking as a table or JSON."""
    from emi_core.leaderboard import Leaderboard

    ranking = Leaderboard(args.store).ranking(args.split, all_submissions=args.all)
    if args.json:
        print(json.dumps([ranked.to_dict() for ranked in ranking], indent=2))
    elif not ranking:
        print(f"no scored submissions for {args.split!r} yet")
    else:
        print(format_ranking(ranking))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the export CSV and say how many rows it holds."""
    from emi_core.leaderboard import Leaderboard

    count = Leaderboard(args.store).export_csv(args.out)
    print(f"wrote {count} submissions to {args.out}")
    return 0


def format_ranking(ranking) -> str:
    """A fixed-width table: rank, team, mean r, 95% CI, p-value against the leader, id, time, description."""
    lines = [
        f"{'rank':>4}  {'team':<40}  {'mean_r':>8}  {'95% CI':<19}  {'p_vs_1st':>8}  {'id':>5}  "
        f"{'submitted (UTC)':<20}  description"
    ]
    for ranked in ranking:
        entry = ranked.entry
        low, high = entry.ci95 or (float("nan"), float("nan"))
        p_value = "-" if ranked.p_value is None else f"{ranked.p_value:.4f}"
        lines.append(
            f"{ranked.rank:>4}  {entry.team:<40}  {entry.mean_pearson:>8.4f}  [{low:+.4f}, {high:+.4f}]  "
            f"{p_value:>8}  {entry.id:>5}  {entry.submitted_at:<20}  {entry.description[:60]}"
        )
    return "\n".join(lines)
