"""``emi leaderboard submit|show|export|team|close``: the local leaderboard store (organiser's commands)."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``leaderboard`` command and its ``submit``, ``show``, ``export``, ``team`` and ``close`` actions."""
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

    team = actions.add_parser("team", help="register teams: each gets a token (shown once) to submit with")
    team_actions = team.add_subparsers(dest="team_action", metavar="TEAM_ACTION", required=True)
    team_add = team_actions.add_parser("add", help="register a team (or replace its token) and print the token once")
    team_add.add_argument("name", help="team name (letters, digits, spaces, '.', '_', '-')")
    team_add.set_defaults(func=run_team_add)
    team_list = team_actions.add_parser("list", help="list the registered teams (never their tokens)")
    team_list.set_defaults(func=run_team_list)

    close = actions.add_parser(
        "close", help="close a split's phase: no more submissions; a hidden split's private ranking is revealed"
    )
    close.add_argument("--split", required=True, help="val or test")
    close.add_argument(
        "--truth", metavar="T.csv", help="ground truth of the split (default: $EMI_GROUND_TRUTH_<SPLIT>)"
    )
    close.set_defaults(func=run_close)

    for action in (submit, show, export, team_add, team_list, close):
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


def run_team_add(args: argparse.Namespace) -> int:
    """Register a team; print its token, which is stored hashed and cannot be shown again."""
    from emi_core.leaderboard import Leaderboard

    token = Leaderboard(args.store).add_team(args.name)
    print(f"team {args.name.strip()!r} registered; its token (shown once, give it to the team):\n{token}")
    return 0


def run_team_list(args: argparse.Namespace) -> int:
    """Print the registered team names, one a line."""
    from emi_core.leaderboard import Leaderboard

    teams = Leaderboard(args.store).teams()
    print("\n".join(teams) if teams else "no teams registered yet (emi leaderboard team add NAME)")
    return 0


def run_close(args: argparse.Namespace) -> int:
    """Close the split's phase and print its final ranking."""
    from emi_core.leaderboard import Leaderboard

    board = Leaderboard(args.store, ground_truth={args.split: args.truth} if args.truth else None)
    board.close(args.split)
    ranking = board.ranking(args.split)
    print(f"the phase of {args.split!r} is closed; final ranking ({ranking[0].ranked_on if ranking else 'empty'}):")
    print(format_ranking(ranking) if ranking else "no scored submissions")
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
        if ranked.ranked_on == "private":
            low, high = entry.private_ci95
        lines.append(
            f"{ranked.rank:>4}  {entry.team:<40}  {ranked.score:>8.4f}  [{low:+.4f}, {high:+.4f}]  "
            f"{p_value:>8}  {entry.id:>5}  {entry.submitted_at:<20}  {entry.description[:60]}"
        )
    return "\n".join(lines)
