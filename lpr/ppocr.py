"""The PP-OCR ONNX models shipped inside the rapidocr wheel, and sessions over them."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def shipped_models() -> Path:
    """Where rapidocr keeps its bundled models; we load them from there and never download."""
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


DET_MODEL = shipped_models() / "ch_PP-OCRv4_det_infer.onnx"
REC_MODEL = shipped_models() / "ch_PP-OCRv4_rec_infer.onnx"


def session(path: Path, threads: int = 0) -> Any:
    """A CPU onnxruntime session; ``threads=0`` lets onnxruntime pick."""
    import onnxruntime as ort

    if not path.is_file():
        raise FileNotFoundError(f"model file {path} is missing; reinstall rapidocr==3.4.2")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Busy-waiting worker threads steal CPU from every other process on a shared host.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
