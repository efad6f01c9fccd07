# SPDX-License-Identifier: Apache-2.0
"""Writes the real datasets the data tests train on, in the layouts users bring them in.

Run with Debian's python3 (python3-sklearn, python3-pil, python3-numpy, python3-torch):
    make_datasets.py OUT_DIR [NAME ...]
NAME: iris, digits, digit-tags, diabetes, cancer, photos, torch-models (default: all), and on
request fashion-png[:TRAIN:TEST].

  iris/iris.csv            scikit-learn's iris: 4 features with a header, the species as text
  iris/iris.npz            the same as arrays x (float64) and y (int64)
  digits/digits.npz        the 1797 8x8 digits, x float32 [N,8,8], y int64
  digits/png/<d>/*.png     the same digits as grayscale PNG files in one folder per class
  digit-tags/tags.csv      the same digits as a multilabel table: the 64 pixels p0..p63, then four
                           0/1 labels per image, true of its digit: even, large (5 or more),
                           prime (2, 3, 5, 7) and loop (0, 6, 8, 9: drawn with a closed loop)
  diabetes/diabetes.csv    scikit-learn's diabetes regression: 10 features, "target" last
  cancer/cancer.csv        breast cancer: 30 features, "diagnosis" (malignant/benign) first
  photos/png/<photo>/*.png 32x32 RGB patches cut from scikit-learn's two sample photographs
                           (china.jpg, flower.jpg), the photo as the class; photos/test/ holds
                           patches from a disjoint region of each photo
  photos/cifar/data_batch_1.bin, test_batch.bin, batches.meta.txt
                           the same patches in CIFAR-10's binary layout (a label byte, then the
                           1024 red, 1024 green and 1024 blue bytes)
  models/mlp30.onnx        PyTorch MLP 30 -> 32 -> 2, exported by torch.onnx
  models/cnn32.onnx        PyTorch CNN over [3,32,32] -> 2, exported by torch.onnx
  fashion-png/{train,test}/<class name>/NNNNN.png
                           Debian's Fashion-MNIST (the first TRAIN and TEST images, default all)
                           as grayscale PNG files, one folder per class name
"""
import csv
import os
import sys

import numpy as np


def iris(out):
    from sklearn import datasets
    d = datasets.load_iris()
    os.makedirs(f"{out}/iris", exist_ok=True)
    with open(f"{out}/iris/iris.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(d.feature_names) + ["species"])
        for x, y in zip(d.data, d.target):
            w.writerow([repr(float(v)) for v in x] + [d.target_names[y]])
    np.savez(f"{out}/iris/iris.npz", x=d.data, y=d.target.astype(np.int64))


def digits(out):
    from PIL import Image
    from sklearn import datasets
    d = datasets.load_digits()
    os.makedirs(f"{out}/digits", exist_ok=True)
    np.savez(f"{out}/digits/digits.npz", x=d.images.astype(np.float32), y=d.target.astype(np.int64))
    for i, (img, t) in enumerate(zip(d.images, d.target)):
        folder = f"{out}/digits/png/{t}"
        os.makedirs(folder, exist_ok=True)
        Image.fromarray(np.round(img * 255.0 / 16.0).astype(np.uint8), "L").save(f"{folder}/{i:04d}.png")


def digit_tags(out):
    from sklearn import datasets
    d = datasets.load_digits()
    os.makedirs(f"{out}/digit-tags", exist_ok=True)
    tags = {"even": lambda t: t % 2 == 0, "large": lambda t: t >= 5, "prime": lambda t: t in (2, 3, 5, 7),
            "loop": lambda t: t in (0, 6, 8, 9)}
    with open(f"{out}/digit-tags/tags.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"p{k}" for k in range(64)] + list(tags))
        for x, t in zip(d.data, d.target):
            w.writerow([int(v) for v in x] + [int(rule(int(t))) for rule in tags.values()])


def diabetes(out):
    from sklearn import datasets
    d = datasets.load_diabetes()
    os.makedirs(f"{out}/diabetes", exist_ok=True)
    with open(f"{out}/diabetes/diabetes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(d.feature_names) + ["target"])
        for x, y in zip(d.data, d.target):
            w.writerow([repr(float(v)) for v in x] + [repr(float(y))])


def cancer(out):
    from sklearn import datasets
    d = datasets.load_breast_cancer()
    os.makedirs(f"{out}/cancer", exist_ok=True)
    with open(f"{out}/cancer/cancer.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["diagnosis"] + list(d.feature_names))
        for x, y in zip(d.data, d.target):
            w.writerow([d.target_names[y]] + [repr(float(v)) for v in x])


def photos(out):
    from PIL import Image
    from sklearn import datasets
    d = datasets.load_sample_images()
    names = [os.path.splitext(os.path.basename(f))[0] for f in d.filenames]
    os.makedirs(f"{out}/photos/cifar", exist_ok=True)
    train, test = [], []
    for label, img in enumerate(d.images):  # 427 x 640 x 3 uint8
        h, w, _ = img.shape
        for y in range(0, h - 32 + 1, 24):
            for x in range(0, w - 32 + 1, 24):
                patch = img[y:y + 32, x:x + 32]
                # the right fifth of each photo is the test split: patches the model never saw
                (test if x >= w * 4 // 5 else train).append((label, patch))
    for split, items in (("png", train), ("test", test)):
        for i, (label, patch) in enumerate(items):
            folder = f"{out}/photos/{split}/{names[label]}"
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(patch, "RGB").save(f"{folder}/{i:05d}.png")
    for name, items in (("data_batch_1.bin", train), ("test_batch.bin", test)):
        with open(f"{out}/photos/cifar/{name}", "wb") as f:
            for label, patch in items:
                f.write(bytes([label]) + patch.transpose(2, 0, 1).tobytes())
    with open(f"{out}/photos/cifar/batches.meta.txt", "w") as f:
        f.write("\n".join(names) + "\n")


def torch_models(out):
    import torch
    torch.manual_seed(0)
    os.makedirs(f"{out}/models", exist_ok=True)
    mlp = torch.nn.Sequential(torch.nn.Linear(30, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2)).eval()
    torch.onnx.export(mlp, torch.zeros(1, 30), f"{out}/models/mlp30.onnx", input_names=["features"], output_names=["logits"],
                      dynamic_axes={"features": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    cnn = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 8 * 8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2)).eval()
    torch.onnx.export(cnn, torch.zeros(1, 3, 32, 32), f"{out}/models/cnn32.onnx", input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)


def fashion_png(out, train=None, test=None):
    import gzip
    from PIL import Image
    names = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]
    src = "/usr/share/datasets/fashion-mnist/"
    for split, prefix, n in (("train", "train", train), ("test", "t10k", test)):
        x = np.frombuffer(gzip.open(src + prefix + "-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
        y = np.frombuffer(gzip.open(src + prefix + "-labels-idx1-ubyte.gz").read()[8:], np.uint8)
        for i in range(len(y) if n is None else int(n)):
            folder = f"{out}/fashion-png/{split}/{names[y[i]]}"
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(x[i], "L").save(f"{folder}/{i:05d}.png")


WRITERS = {"iris": iris, "digits": digits, "digit-tags": digit_tags, "diabetes": diabetes, "cancer": cancer, "photos": photos, "torch-models": torch_models}

if __name__ == "__main__":
    out = sys.argv[1]
    for name in sys.argv[2:] or list(WRITERS):
        if name.startswith("fashion-png"):
            fashion_png(out, *name.split(":")[1:])
        else:
            WRITERS[name](out)
