#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An independent reader of a run directory's TensorBoard event files (no TensorFlow, no Netwright
code): TFRecord framing with both masked CRC-32Cs of every record checked (a bitwise CRC-32C of
its own), Event/Summary decoded with python3-protobuf from the schema restated below with
tensorflow's field numbers, then checked against the run's metrics.jsonl and config.json:

  - every file starts with file_version "brain.Event:2", every byte belongs to a good record;
  - across the files (in name order, as TensorBoard reads them) each tag has at most one point
    per step, steps rising, and a SessionLog START (a resume) purges nothing TensorBoard read;
  - train/loss, train/accuracy, train/lr: one point per training step, equal (as float32) to
    metrics.jsonl's; train/epoch_*: one per epoch; eval/*: one per evaluation;
  - the run config as a text-plugin summary "config" equal to config.json.

Usage: read_tfevents.py RUN_DIR [--list]   (exit 0: all holds; --list prints every record)
"""
import glob
import json
import math
import os
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def schema():
    """Event, Summary, SessionLog, TensorProto: the fields read here, tensorflow's numbers."""
    f = descriptor_pb2.FileDescriptorProto(name="tb_restated.proto", package="restated", syntax="proto3")

    def message(name, fields, parent=None):
        m = (parent.nested_type if parent else f.message_type).add(name=name)
        for number, fname, ftype, extra in fields:
            field = m.field.add(name=fname, number=number, type=ftype, label=F.LABEL_OPTIONAL)
            for k, v in extra.items():
                setattr(field, k, v)
        return m

    message("TensorShapeProto", [(2, "dim", F.TYPE_MESSAGE, {"type_name": ".restated.TensorShapeProto.Dim", "label": F.LABEL_REPEATED})])
    message("Dim", [(1, "size", F.TYPE_INT64, {}), (2, "name", F.TYPE_STRING, {})], f.message_type[0])
    message("TensorProto", [(1, "dtype", F.TYPE_INT32, {}), (2, "tensor_shape", F.TYPE_MESSAGE, {"type_name": ".restated.TensorShapeProto"}),
                            (8, "string_val", F.TYPE_BYTES, {"label": F.LABEL_REPEATED})])
    meta = message("SummaryMetadata", [(1, "plugin_data", F.TYPE_MESSAGE, {"type_name": ".restated.SummaryMetadata.PluginData"}),
                                       (2, "display_name", F.TYPE_STRING, {}), (4, "data_class", F.TYPE_INT32, {})])
    message("PluginData", [(1, "plugin_name", F.TYPE_STRING, {}), (2, "content", F.TYPE_BYTES, {})], meta)
    summary = message("Summary", [(1, "value", F.TYPE_MESSAGE, {"type_name": ".restated.Summary.Value", "label": F.LABEL_REPEATED})])
    value = message("Value", [(1, "tag", F.TYPE_STRING, {}), (2, "simple_value", F.TYPE_FLOAT, {"oneof_index": 0}),
                              (8, "tensor", F.TYPE_MESSAGE, {"type_name": ".restated.TensorProto", "oneof_index": 0}),
                              (9, "metadata", F.TYPE_MESSAGE, {"type_name": ".restated.SummaryMetadata"})], summary)
    value.oneof_decl.add(name="value")
    message("SessionLog", [(1, "status", F.TYPE_INT32, {}), (2, "checkpoint_path", F.TYPE_STRING, {}), (3, "msg", F.TYPE_STRING, {})])
    event = message("Event", [(1, "wall_time", F.TYPE_DOUBLE, {}), (2, "step", F.TYPE_INT64, {}),
                              (3, "file_version", F.TYPE_STRING, {"oneof_index": 0}),
                              (5, "summary", F.TYPE_MESSAGE, {"type_name": ".restated.Summary", "oneof_index": 0}),
                              (7, "session_log", F.TYPE_MESSAGE, {"type_name": ".restated.SessionLog", "oneof_index": 0})])
    event.oneof_decl.add(name="what")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    return message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName("restated.Event"))


def records(path):
    data = open(path, "rb").read()
    at = 0
    while at < len(data):
        assert len(data) - at >= 12, f"{path}: a record header cut short at byte {at}"
        header = data[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[at + 8:at + 12])
        assert length_crc == masked(header), f"{path}: length CRC wrong at byte {at}"
        assert len(data) - at - 12 >= length + 4, f"{path}: record cut short at byte {at}"
        body = data[at + 12:at + 12 + length]
        (data_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        assert data_crc == masked(body), f"{path}: data CRC wrong at byte {at}"
        yield body
        at += 16 + length


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def same(a, b):
    if b is None:  # metrics.jsonl writes a non-finite value as null
        return not math.isfinite(a)
    return a == f32(b) or (math.isnan(a) and math.isnan(f32(b)))


def main():
    run = sys.argv[1]
    listing = "--list" in sys.argv
    Event = schema()
    files = sorted(glob.glob(os.path.join(run, "events.out.tfevents.*")))
    assert files, f"{run}: no events files"
    points = {}  # tag -> [(step, value, file)]
    config_texts = []
    total = 0
    for path in files:
        name = os.path.basename(path)
        events = [Event.FromString(r) for r in records(path)]
        total += len(events)
        assert events and events[0].file_version == "brain.Event:2", f"{name}: does not start with file_version brain.Event:2"
        if listing:
            print(f"{name}: {len(events)} records, every CRC holds")
        for e in events:
            what = e.WhichOneof("what")
            if what == "session_log":
                assert e.session_log.status == 1, f"{name}: session_log status {e.session_log.status}"
                purged = [(t, s) for t, ps in points.items() for s, _, _ in ps if s >= e.step]
                assert not purged, f"{name}: the START at step {e.step} would purge points TensorBoard read: {purged[:5]}"
                if listing:
                    print(f"  step {e.step:>4}  session_log START (a resume)")
                continue
            if what == "file_version":
                if listing:
                    print(f"  step {e.step:>4}  file_version {e.file_version}")
                continue
            assert what == "summary", f"{name}: an event with {what}"
            shown = []
            for v in e.summary.value:
                if v.WhichOneof("value") == "tensor":
                    assert v.metadata.plugin_data.plugin_name == "text", f"{name}: tensor summary {v.tag} not for the text plugin"
                    assert v.tensor.dtype == 7 and len(v.tensor.string_val) == 1, f"{name}: {v.tag} is not one string"
                    config_texts.append((v.tag, v.tensor.string_val[0].decode()))
                    shown.append(f"{v.tag} (text, {len(config_texts[-1][1])} chars)")
                    continue
                points.setdefault(v.tag, []).append((e.step, v.simple_value, name))
                shown.append(f"{v.tag} {v.simple_value:.6g}")
            if listing:
                print(f"  step {e.step:>4}  " + "  ".join(shown))

    # One point per step and tag, steps rising in reading order.
    for tag, ps in points.items():
        steps = [s for s, _, _ in ps]
        assert steps == sorted(set(steps)), f"{tag}: steps repeat or fall: {steps}"

    metrics = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl"))]
    expected = {}
    for r in metrics:
        if r["type"] == "step":
            own = {"loss": r["loss"], "lr": r["lr"]}
            own.update({k: v for k, v in r.items() if k not in ("type", "epoch", "step", "global_step", "batch_size", "loss", "lr")})
            for k, v in own.items():
                expected.setdefault("train/" + k, []).append((r["global_step"], v))
        elif r["type"] == "epoch":
            expected.setdefault("train/epoch_loss", []).append((r["global_step"], r["train_loss"]))
            if "train_accuracy" in r:
                expected.setdefault("train/epoch_accuracy", []).append((r["global_step"], r["train_accuracy"]))
        elif r["type"] == "eval":
            for k, v in r.items():
                if k not in ("type", "epoch", "global_step", "split", "samples", "correct"):
                    expected.setdefault("eval/" + k, []).append((r["global_step"], v))
    assert set(points) == set(expected), f"tags {sorted(points)} != {sorted(expected)}"
    for tag, want in expected.items():
        got = [(s, v) for s, v, _ in points[tag]]
        assert [s for s, _ in got] == [s for s, _ in want], f"{tag}: steps {[s for s, _ in got]} != metrics.jsonl's {[s for s, _ in want]}"
        for (s, v), (_, w) in zip(got, want):
            assert same(v, w), f"{tag} at step {s}: {v} != metrics.jsonl's {w}"

    assert len(config_texts) == 1 and config_texts[0][0] == "config", f"config text summaries: {[t for t, _ in config_texts]}"
    text = config_texts[0][1]
    assert all(line.startswith("    ") for line in text.splitlines()), "the config text is not a Markdown code block"
    config = json.loads("\n".join(line[4:] for line in text.splitlines()))
    assert config == json.load(open(os.path.join(run, "config.json"))), "the config text differs from config.json"

    steps = len([r for r in metrics if r["type"] == "step"])
    print(f"{len(files)} events file(s), {total} records, every CRC holds")
    for tag in sorted(points):
        ps = points[tag]
        print(f"{tag}: {len(ps)} points, steps {ps[0][0]}..{ps[-1][0]}, equal to metrics.jsonl")
    print(f"config: text summary equal to config.json")
    print(f"OK: one train/loss point for each of the {steps} training steps")


if __name__ == "__main__":
    main()
