"""Ground-truth values (and paths) never appear in any message, output, log, export or stored file."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from emi_core.cli import main
from emi_core.emotions import CSV_HEADER_LINE
from emi_core.errors import EMIError
from emi_core.leaderboard import Leaderboard
from emi_core.scoring import load_ground_truth, score_submission, validate_submission, write_submission

N = 60


@pytest.fixture()
def secret(tmp_path):
    """A ground truth with distinctive 9-decimal values, in a folder with a distinctive name."""
    rng = np.random.default_rng(77)
    ids = [f"{i:05d}" for i in range(N)]
    cells = [[f"{0.1 + 0.8 * rng.random():.9f}" for _ in range(6)] for _ in ids]
    folder = tmp_path / "TRUTH_DIR_c0ffee"
    folder.mkdir()
    path = folder / "val_truth.csv"
    path.write_text(
        CSV_HEADER_LINE + "\n" + "".join(f"{i},{','.join(row)}\n" for i, row in zip(ids, cells, strict=True))
    )
    values = np.array(cells, dtype=float)
    pred = write_submission(tmp_path / "pred.csv", ids, np.clip(values + rng.normal(0, 0.2, values.shape), 0, 1))
    secrets = {cell for row in cells for cell in row} | {repr(float(cell)) for row in cells for cell in row}
    return path, pred, secrets | {"TRUTH_DIR_c0ffee"}


def assert_secret_free(texts, secrets):
    for text in texts:
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"ground truth leaked: {leaked[:3]} in {text[:200]!r}"


def bad_truth_variants(path):
    """Broken copies of the truth: a cell out of range, a non-number, a constant column."""
    lines = path.read_text().splitlines()
    out_of_range = lines.copy()
    out_of_range[3] = out_of_range[3].rsplit(",", 1)[0] + ",1.777777777"
    not_a_number = lines.copy()
    not_a_number[4] = not_a_number[4].rsplit(",", 1)[0] + ",0.55555x5555"
    constant = [lines[0]] + [line.rsplit(",", 1)[0] + ",0.333333333" for line in lines[1:]]
    return {"out_of_range": out_of_range, "not_a_number": not_a_number, "constant": constant}


def test_scoring_messages_and_outputs_never_reveal_the_truth(secret, tmp_path, capsys, caplog):
    truth_path, pred_path, secrets = secret
    caplog.set_level(logging.DEBUG)
    texts = []
    wrong = tmp_path / "wrong.csv"
    pred_lines = pred_path.read_text().splitlines()
    pred_lines[1] = "99999" + pred_lines[1][5:]  # an unknown id, and one ground-truth id missing
    pred_lines[2] = pred_lines[2].rsplit(",", 1)[0] + ",1.5"
    wrong.write_text("\n".join(pred_lines + [pred_lines[3]]) + "\n")
    for args in (
        ["score", "--pred", pred_path, "--truth", truth_path],
        ["score", "--pred", pred_path, "--truth", truth_path, "--json"],
        ["score", "--pred", wrong, "--truth", truth_path, "--json"],
        ["score", "--validate", wrong],
    ):
        main([str(arg) for arg in args])
        texts.extend(capsys.readouterr())
    for name, lines in bad_truth_variants(truth_path).items():
        broken = truth_path.parent / f"{name}.csv"
        broken.write_text("\n".join(lines) + "\n")
        assert main(["score", "--pred", str(pred_path), "--truth", str(broken)]) == 2
        texts.extend(capsys.readouterr())
        with pytest.raises(EMIError) as caught:
            load_ground_truth(broken)
        texts.append(str(caught.value))
        texts.extend(str(problem) for problem in caught.value.problems)
        assert "1.777777777" not in texts[-1] and "0.55555x5555" not in texts[-1] and "0.333333333" not in texts[-1]
    truth = load_ground_truth(truth_path)
    texts += [repr(truth), repr(validate_submission(pred_path, truth)), repr(score_submission(pred_path, truth))]
    texts += [record.getMessage() for record in caplog.records]
    assert any("is not in the ground truth" in text for text in texts)  # the checks above did run
    assert any("1 ground-truth id is missing: '00000'" in text for text in texts)
    assert_secret_free(texts, secrets)


def test_leaderboard_never_reveals_or_copies_the_truth(secret, tmp_path, capsys, monkeypatch):
    truth_path, pred_path, secrets = secret
    store = tmp_path / "store"
    monkeypatch.setenv("EMI_SUBMISSIONS_DIR", str(store))
    monkeypatch.setenv("EMI_GROUND_TRUTH_VAL", str(truth_path))
    monkeypatch.setenv("EMI_DAILY_LIMIT", "1")
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_HEADER_LINE + "\n00001,0.1,0.2,0.3,0.4,0.5,0.6\n77777,0.1,0.2,0.3,0.4,0.5,0.6\n")
    padded = tmp_path / "padded.csv"
    padded.write_text(pred_path.read_text() + "\n\n")  # other bytes, same content: the same submission
    second = tmp_path / "second.csv"
    rows = pred_path.read_text().splitlines()
    rows[1] = rows[1].rsplit(",", 1)[0] + ",0.5"
    second.write_text("\n".join(rows) + "\n")
    submit = ["submit", "--team", "Team A", "--split", "val", "--pred"]
    for args, code, fragment in (
        ([*submit, pred_path], 0, '"status": "scored"'),
        ([*submit, pred_path], 2, "already submitted this file"),
        ([*submit, padded], 2, "already submitted this file"),
        ([*submit, second], 2, "has used its 1 scored submissions"),
        ([*submit, bad], 2, "id '77777' is not in the ground truth"),
        (["show"], 0, "Team A"),
        (["show", "--all", "--json"], 0, '"rank": 1'),
        (["export", tmp_path / "export.csv"], 0, "wrote 2 submissions"),
    ):
        assert main(["leaderboard", *map(str, args)]) == code
        texts = capsys.readouterr()
        assert fragment in texts.out + texts.err
        assert_secret_free(texts, secrets)
    assert_secret_free([(tmp_path / "export.csv").read_text(encoding="utf-8-sig")], secrets)
    for path in store.rglob("*"):
        if path.is_file():
            content = path.read_bytes().decode("latin-1")
            assert_secret_free([content], secrets)
            assert path.read_bytes() != truth_path.read_bytes()
    broken = truth_path.parent / "broken.csv"
    broken.write_text("\n".join(bad_truth_variants(truth_path)["constant"]) + "\n")
    board = Leaderboard(store, ground_truth={"val": broken}, daily_limit=10)
    with pytest.raises(EMIError) as caught:
        board.submit("Team B", "val", pred_path)
    assert_secret_free([str(caught.value)], secrets | {"0.333333333"})
    assert json.dumps([entry.to_dict() for entry in board.entries()])  # entries serialise without the truth
