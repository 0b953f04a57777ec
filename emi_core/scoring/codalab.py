"""Challenge-server scoring: the CodaLab / Codabench scoring-program layout.

The platform unpacks the participant's submission into ``INPUT_DIR/res`` and the reference data
into ``INPUT_DIR/ref``; the program writes ``OUTPUT_DIR/scores.txt`` (``key: value`` lines) and
``OUTPUT_DIR/scores.json`` (a flat ``{key: number}`` object).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from emi_core.emotions import EMOTIONS
from emi_core.errors import EMIError
from emi_core.scoring.report import ScoreReport
from emi_core.scoring.score import score_submission
from emi_core.scoring.truth import load_ground_truth
from emi_core.scoring.validate import is_truth_copy, validate_submission


class CodalabError(EMIError):
    """The scoring-program folders are not laid out as CodaLab / Codabench lays them out."""


def score_keys(report: ScoreReport) -> dict[str, float]:
    """Flat leaderboard keys: ``mean_pearson`` and one snake_case key per emotion."""
    keys = {"mean_pearson": report.mean_pearson}
    keys.update({_key(emotion): report.per_emotion[emotion] for emotion in EMOTIONS})
    return keys


def _key(emotion: str) -> str:
    return emotion.lower().replace(" ", "_")


def find_single_csv(folder: Path, role: str, *, allow_links: bool) -> Path:
    """The one CSV below ``folder`` (searched recursively, macOS and hidden entries ignored).

    Without ``allow_links`` (the participant's ``res/``) any symbolic link below ``folder``, or the
    folder itself being one, is refused: a link could point at the reference or any file on the server.
    Links are never followed while searching.
    """
    if folder.is_symlink() and not allow_links:
        raise CodalabError(f"the {role} folder '{folder.name}/' is a symbolic link; submissions must be plain files")
    if not folder.is_dir():
        raise CodalabError(f"the {role} folder '{folder.name}/' is missing from the input folder")
    entries = []
    for root, folders, names in os.walk(folder, followlinks=False):
        for name in folders + names:
            path = Path(root) / name
            if path.is_symlink() and not allow_links:
                shown = path.relative_to(folder).as_posix()
                raise CodalabError(
                    f"the {role} folder holds a symbolic link ({shown!r}); submissions must be plain files"
                )
            entries.append(path)
    found = sorted(
        path
        for path in entries
        if path.is_file()
        and path.suffix.lower() == ".csv"
        and not any(part.startswith((".", "__MACOSX")) for part in path.relative_to(folder).parts)
    )
    if len(found) != 1:
        raise CodalabError(f"expected exactly one CSV file in the {role} folder '{folder.name}/', found {len(found)}")
    return found[0]


def run_codalab(input_dir: str | os.PathLike, output_dir: str | os.PathLike) -> ScoreReport:
    """Score ``input_dir/res/*.csv`` against ``input_dir/ref/*.csv``; write scores.txt and scores.json.

    Raises :class:`~emi_core.scoring.problems.SubmissionError` for an invalid submission (the
    platform shows the message to the participant) and :class:`CodalabError` for a bad layout.
    """
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    pred = find_single_csv(input_dir / "res", "submission", allow_links=False)
    truth = load_ground_truth(find_single_csv(input_dir / "ref", "reference", allow_links=True))
    result = validate_submission(pred, truth)
    if is_truth_copy(result):
        raise CodalabError("the submission is a copy of the reference, not predictions")
    report = score_submission(result, truth)
    keys = score_keys(report)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "scores.txt").write_text("".join(f"{key}: {value!r}\n" for key, value in keys.items()))
    (output_dir / "scores.json").write_text(json.dumps(keys, indent=2) + "\n")
    return report
