# SPDX-License-Identifier: Apache-2.0
# Test oracle for `netwright eval`: scikit-learn's figures on the per-sample predictions `eval --csv`
# wrote (true, predicted) checked against what `eval --json` reported — the confusion matrix,
# accuracy, and per class precision, recall, F1 and support, with the macro and weighted means.
# Usage: /usr/bin/python3 sklearn_eval_check.py EVAL.json PREDICTIONS.csv ; prints "ok" or what differs (exit 1).
import csv
import json
import sys

from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

report = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
y_true = [int(r["true"]) for r in rows]
y_pred = [int(r["predicted"]) for r in rows]
labels = list(range(len(report["classes"])))
problems = []


def close(name, ours, theirs):
    if abs(ours - theirs) > 1e-9:
        problems.append(f"{name}: eval {ours}, scikit-learn {theirs}")


if len(rows) != report["samples"]:
    problems.append(f"{len(rows)} rows in the CSV, {report['samples']} samples in the report")
if confusion_matrix(y_true, y_pred, labels=labels).tolist() != report["confusion_matrix"]:
    problems.append("the confusion matrices differ")
close("accuracy", report["accuracy"], accuracy_score(y_true, y_pred))
p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
for k, c in enumerate(report["per_class"]):
    close(f"class {k} precision", c["precision"], p[k])
    close(f"class {k} recall", c["recall"], r[k])
    close(f"class {k} f1", c["f1"], f[k])
    if c["support"] != int(s[k]):
        problems.append(f"class {k} support: eval {c['support']}, scikit-learn {s[k]}")
for average, key in (("macro", "macro_avg"), ("weighted", "weighted_avg")):
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=average, zero_division=0)
    close(f"{average} precision", report[key]["precision"], p)
    close(f"{average} recall", report[key]["recall"], r)
    close(f"{average} f1", report[key]["f1"], f)
print("\n".join(problems) if problems else "ok")
sys.exit(1 if problems else 0)
