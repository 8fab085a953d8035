"""Synthetic camera frames: a code image placed on a 1280x720 scene and degraded the way a
webcam degrades it (blur, noise, small, low contrast, tilt). Tests and the decode benchmark
use the same conditions, so the figures in docs/kiosk.md describe what the tests check."""

from __future__ import annotations

import numpy as np

FRAME_SIZE = (720, 1280)  # rows, columns
CONDITIONS = ("clean", "blur", "noise", "small", "low_contrast", "tilt", "webcam_mix")


def place(code: np.ndarray, scale: float = 1.0, angle: float = 0.0) -> np.ndarray:
    """A gray 1280x720 frame with `code` (gray, dark on light) scaled and rotated at its centre."""
    import cv2

    frame: np.ndarray = np.full(FRAME_SIZE, 200, np.uint8)
    h, w = code.shape[:2]
    target = min(FRAME_SIZE[0] * 0.6 / h, FRAME_SIZE[1] * 0.6 / w) * scale
    size = (max(1, int(w * target)), max(1, int(h * target)))
    resized = cv2.resize(code, size, interpolation=cv2.INTER_AREA)
    rh, rw = resized.shape
    top, left = (FRAME_SIZE[0] - rh) // 2, (FRAME_SIZE[1] - rw) // 2
    frame[top : top + rh, left : left + rw] = resized
    if angle:
        matrix = cv2.getRotationMatrix2D((FRAME_SIZE[1] / 2, FRAME_SIZE[0] / 2), angle, 1.0)
        frame = np.asarray(
            cv2.warpAffine(frame, matrix, (FRAME_SIZE[1], FRAME_SIZE[0]), borderValue=200)
        )
    return frame


def degrade(code: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """One frame of `code` under `condition` (see CONDITIONS); `rng` varies the strength."""
    import cv2

    if condition == "clean":
        return place(code)
    if condition == "blur":
        return cv2.GaussianBlur(place(code), (0, 0), rng.uniform(2.5, 4.0))
    if condition == "noise":
        noisy = place(code).astype(np.float32) + rng.normal(0, rng.uniform(25, 40), FRAME_SIZE)
        return np.clip(noisy, 0, 255).astype(np.uint8)
    if condition == "small":
        return place(code, scale=rng.uniform(0.25, 0.35))
    if condition == "low_contrast":
        frame = place(code).astype(np.float32)
        return (120 + frame * rng.uniform(0.025, 0.04)).astype(np.uint8)
    if condition == "tilt":
        return place(code, angle=rng.uniform(-25, 25))
    if condition == "webcam_mix":
        frame = place(code, scale=rng.uniform(0.5, 0.9), angle=rng.uniform(-8, 8))
        frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.8, 1.8)).astype(np.float32)
        frame = frame * rng.uniform(0.5, 0.9) + rng.uniform(10, 60)
        frame += rng.normal(0, rng.uniform(5, 15), FRAME_SIZE)
        return np.clip(frame, 0, 255).astype(np.uint8)
    raise ValueError(f"unknown condition {condition!r}; one of {CONDITIONS}")
