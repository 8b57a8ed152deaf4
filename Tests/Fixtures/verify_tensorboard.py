#!/usr/bin/env python3
"""Checks a Tessera run directory's TensorBoard event files with TensorBoard's own reader.

    /opt/peers/bin/python Tests/Fixtures/verify_tensorboard.py RUN_DIR

Loads RUN_DIR with tensorboard's EventAccumulator (every point kept, all event files in the
directory, as TensorBoard reads them) and checks that every metric of RUN_DIR/metrics.jsonl is a
scalar tag with exactly the same steps and the same values (as float32, which is what
Summary.Value.simple_value holds; null in JSON is NaN), that no other scalar tag exists, and, when
curves.png exists, that the `curves` image holds the same PNG. Exits 1 on the first mismatch.
Needs `pip install tensorboard`; CI does not run it.
"""
import json
import math
import os
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def as_float32(value):
    return struct.unpack("<f", struct.pack("<f", value))[0]


def main(run):
    expected = {}
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            record = json.loads(line)
            step = record.pop("step")
            for name, value in record.items():
                expected.setdefault(name, []).append((step, math.nan if value is None else as_float32(value)))

    events = sorted(name for name in os.listdir(run) if "tfevents" in name)
    accumulator = EventAccumulator(run, size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    problems = []
    if set(tags["scalars"]) != set(expected):
        problems.append(f"scalar tags {sorted(tags['scalars'])}, metrics.jsonl has {sorted(expected)}")
    points = 0
    for name, series in sorted(expected.items()):
        if name not in tags["scalars"]:
            continue
        read = [(event.step, event.value) for event in accumulator.Scalars(name)]
        points += len(read)
        if [step for step, _ in read] != [step for step, _ in series]:
            problems.append(f"{name}: steps {[s for s, _ in read][:8]}… against {[s for s, _ in series][:8]}…")
            continue
        for (step, got), (_, want) in zip(read, series):
            if not (got == want or (math.isnan(got) and math.isnan(want))):
                problems.append(f"{name} at step {step}: {got} against {want}")
                break
    curves = os.path.join(run, "curves.png")
    if os.path.exists(curves):
        if "curves" not in tags["images"]:
            problems.append("no `curves` image")
        else:
            with open(curves, "rb") as f:
                if accumulator.Images("curves")[-1].encoded_image_string != f.read():
                    problems.append("the last `curves` image is not curves.png")
    for problem in problems:
        print("MISMATCH", problem)
    if problems:
        return 1
    print(f"ok: {len(events)} event file(s), {len(expected)} scalar tags, {points} points equal to metrics.jsonl"
          f"{', curves image equal to curves.png' if os.path.exists(curves) else ''}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
