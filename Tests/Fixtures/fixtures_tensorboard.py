"""TensorBoard event records as tensorboard's own protobuf classes and record writer make them
(Tests/Fixtures/tensorboard.json, read by TesseraTrainingTests/TensorBoardEventsTests.swift).

    crc32c[k]   {"input": hex, "crc32c": n, "masked": n}: tensorboard's CRC-32C and its masked form
                (the empty string, "a", "123456789" whose CRC-32C is the standard check 0xE3069283,
                32 zero bytes, 32 bytes 0xff, the bytes 0..255)
    events[k]   {"name", "wall_time", "step", "file_version" | "session_start" | "scalars" | "image", "event": hex of
                Event.SerializeToString(), "record": hex of RecordWriter.write(event)}

The events cover what a run writes: the file_version event, a SessionLog START (a reader drops
the points of older files from its step on), a scalar, a step and a value of zero
(proto3 leaves the step out but keeps simple_value, which sits in a oneof), several values in one
Summary, a step past 2^32 (multi-byte varints), NaN and infinity, a negative value, and an image.
"""
import io
import json
import math
import os

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import crc32c, masked_crc32c
from tensorboard.summary.writer.record_writer import RecordWriter

HERE = os.path.dirname(os.path.abspath(__file__))

# A 1x1 PNG is too short to exercise a two-byte length; 300 arbitrary bytes after a PNG signature do.
IMAGE_BYTES = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + bytes((7 * i + 3) % 256 for i in range(300))


def record(data):
    buffer = io.BytesIO()
    RecordWriter(buffer).write(data)
    return buffer.getvalue()


def scalar_event(name, wall_time, step, scalars):
    event = event_pb2.Event(wall_time=wall_time, step=step)
    for tag, value in scalars:
        event.summary.value.add(tag=tag, simple_value=value)
    return {"name": name, "wall_time": wall_time, "step": step,
            "scalars": [{"tag": tag, "value": value if math.isfinite(value) else str(value)} for tag, value in scalars],
            "event": event.SerializeToString()}


def main():
    inputs = [b"", b"a", b"123456789", bytes(32), bytes([0xFF] * 32), bytes(range(256))]
    vectors = [{"input": data.hex(), "crc32c": crc32c(data) & 0xFFFFFFFF, "masked": masked_crc32c(data)} for data in inputs]
    assert vectors[2]["crc32c"] == 0xE3069283

    events = []
    version = event_pb2.Event(wall_time=1764800000.25, file_version="brain.Event:2")
    events.append({"name": "file_version", "wall_time": 1764800000.25, "step": 0, "file_version": "brain.Event:2",
                   "event": version.SerializeToString()})
    start = event_pb2.Event(wall_time=1764800000.5, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
    events.append({"name": "session start", "wall_time": 1764800000.5, "step": 0, "session_start": True,
                   "event": start.SerializeToString()})
    events.append(scalar_event("scalar", 1764800001.5, 20, [("loss", 0.41)]))
    events.append(scalar_event("zero step and value", 1764800002.0, 0, [("loss", 0.0)]))
    events.append(scalar_event("several values", 1764800003.125, 300,
                               [("learning_rate", 0.001), ("loss", 2.302585), ("test_accuracy", 0.9375)]))
    events.append(scalar_event("large step", 1764800004.0, 5_000_000_000, [("return", -172.03)]))
    events.append(scalar_event("non-finite", 1764800005.0, 7, [("loss", float("nan")), ("grad", float("inf")), ("low", float("-inf"))]))
    image = event_pb2.Event(wall_time=1764800006.75, step=40)
    image.summary.value.add(tag="curves", image=summary_pb2.Summary.Image(
        height=600, width=900, colorspace=3, encoded_image_string=IMAGE_BYTES))
    events.append({"name": "image", "wall_time": 1764800006.75, "step": 40,
                   "image": {"tag": "curves", "height": 600, "width": 900, "colorspace": 3, "encoded": IMAGE_BYTES.hex()},
                   "event": image.SerializeToString()})
    for event in events:
        event["record"] = record(event["event"]).hex()
        event["event"] = event["event"].hex()

    with open(os.path.join(HERE, "tensorboard.json"), "w") as f:
        json.dump({"crc32c": vectors, "events": events}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
