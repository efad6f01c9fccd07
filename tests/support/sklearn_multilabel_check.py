# SPDX-License-Identifier: Apache-2.0
# Test oracle for `netwright eval` on a multilabel run: scikit-learn's figures on the per-sample
# label sets `eval --csv` wrote (true, predicted: label indices joined by ";") checked against
# what `eval --json` reported — subset accuracy, hamming loss, multilabel_confusion_matrix, per
# label precision, recall, F1 and support, the micro, macro, weighted and samples averages, each
# predicted set against its probabilities (> threshold), and the loss as the mean of the samples'.
# Usage: /usr/bin/python3 sklearn_multilabel_check.py EVAL.json PREDICTIONS.csv ; prints "ok" or what differs (exit 1).
import csv
import json
import sys

import numpy as np
from sklearn.metrics import accuracy_score, hamming_loss, multilabel_confusion_matrix, precision_recall_fscore_support

report = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
labels = report["labels"]


def indicator(text):
    row = np.zeros(len(labels), dtype=int)
    for k in filter(None, text.split(";")):
        row[int(k)] = 1
    return row


y_true = np.array([indicator(r["true"]) for r in rows])
y_pred = np.array([indicator(r["predicted"]) for r in rows])
problems = []


def close(name, ours, theirs, tolerance=1e-9):
    if ours is None or abs(ours - theirs) > tolerance:
        problems.append(f"{name}: eval {ours}, scikit-learn {theirs}")


if len(rows) != report["samples"]:
    problems.append(f"{len(rows)} rows in the CSV, {report['samples']} samples in the report")
if multilabel_confusion_matrix(y_true, y_pred).tolist() != report["multilabel_confusion_matrix"]:
    problems.append("the multilabel confusion matrices differ")
close("accuracy (subset)", report["accuracy"], accuracy_score(y_true, y_pred))
close("hamming loss", report["hamming_loss"], hamming_loss(y_true, y_pred))
p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
for k, c in enumerate(report["per_label"]):
    if c["label"] != labels[k]:
        problems.append(f"label {k} is {c['label']}, the labels say {labels[k]}")
    close(f"{labels[k]} precision", c["precision"], p[k])
    close(f"{labels[k]} recall", c["recall"], r[k])
    close(f"{labels[k]} f1", c["f1"], f[k])
    if c["support"] != int(s[k]):
        problems.append(f"{labels[k]} support: eval {c['support']}, scikit-learn {s[k]}")
for average in ("micro", "macro", "weighted", "samples"):
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
    ours = report[f"{average}_avg"]
    close(f"{average} precision", ours["precision"], p)
    close(f"{average} recall", ours["recall"], r)
    close(f"{average} f1", ours["f1"], f)
    if ours["support"] != int(y_true.sum()):
        problems.append(f"{average} support: eval {ours['support']}, positives {y_true.sum()}")
probability = np.array([[float(row[f"probability_{name}"]) for name in labels] for row in rows])
if not ((probability > report["threshold"]).astype(int) == y_pred).all():
    problems.append("a predicted set is not the labels whose probability is above the threshold")
close("loss (mean of the samples')", report["loss"], float(np.mean([float(row["loss"]) for row in rows])), 1e-7)
print("\n".join(problems) if problems else "ok")
sys.exit(1 if problems else 0)
