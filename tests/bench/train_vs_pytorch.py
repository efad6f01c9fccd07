#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Training throughput and memory: Netwright vs PyTorch (Debian's python3-torch), side by side.

For mlp, lenet5 and cnn-small: batch 64, SGD with momentum 0.9, lr 0.01, Fashion-MNIST in file
order, the same initial weights (Netwright dumps them, PyTorch loads them), the same thread count.
For vit and lstm (issue 16's real results, tests/support/export_sequence_models.py): the model is
written in PyTorch and exported to ONNX, Netwright trains the ONNX file (as `netwright train
--model-file` does) and PyTorch the module itself from the same initial state_dict; batch 128, Adam,
lr 0.003 (vit) and 0.002 (lstm), Fashion-MNIST in file order.
Each run is a fresh process; the two frameworks alternate (N, P, N, P, …) and the best of the
rounds counts. Prints images/s for each, the ratio Netwright/PyTorch, peak RSS of each, and the
loss after the last step of each as a check that both trained the same network.

PyTorch gets its best BLAS: Debian's OpenMP OpenBLAS through LD_LIBRARY_PATH (the reference BLAS
is ~10x slower; the pthread OpenBLAS stalls against PyTorch's OpenMP threads). The script prints
which BLAS library PyTorch actually mapped.

With --device cuda both train on the first GPU (Netwright: cuBLAS, cuDNN and its CUDA kernels;
PyTorch: its CUDA build). Debian's python3-torch is CPU-only, so that comparison needs a machine
with a GPU and a CUDA-enabled PyTorch; without either the script says which is missing and stops.

With --precision bf16 (a CPU with AVX512-BF16 or AMX) each side also trains in bf16 mixed precision:
Netwright with training.precision bf16, PyTorch under torch.autocast("cpu", dtype=torch.bfloat16).
Each round runs both sides in fp32 and in bf16; the script prints each side's bf16 images/s, its
ratio to that side's own fp32 images/s, and the bf16 ratio Netwright/PyTorch.

usage: tests/bench/train_vs_pytorch.py [--build build/release] [--threads 2] [--rounds 3] [--device cpu|cuda]
                                      [--models mlp,lenet5,cnn-small,vit,lstm] [--precision fp32|bf16]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

OPENBLAS_OPENMP = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
FASHION = "/usr/share/datasets/fashion-mnist"
STEPS = {"mlp": (400, 40), "lenet5": (250, 25), "cnn-small": (150, 15), "vit": (100, 10), "lstm": (60, 6)}  # (timed, warm-up)
# The models exported from PyTorch: batch, optimizer, learning rate.
EXPORTED = {"vit": (128, "adam", 0.003), "lstm": (128, "adam", 0.002)}
SUPPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support")
# Multiply-adds of one image's forward pass through the zoo models' convolutions and matrix products
# (output positions x output channels x inputs per output). A training step does each three times
# (forward, data gradient, weight gradient) except the first layer's data gradient, which nobody
# needs; a multiply-add is 2 FLOP.
FORWARD_MACS = {
    "mlp": [784 * 256, 256 * 128, 128 * 10],
    "lenet5": [28 * 28 * 6 * 25, 10 * 10 * 16 * 6 * 25, 400 * 120, 120 * 84, 84 * 10],
    "cnn-small": [28 * 28 * 32 * 9, 14 * 14 * 64 * 32 * 9, 3136 * 128, 128 * 10],
}


def train_flops_per_image(model):
    macs = FORWARD_MACS[model]
    return 2 * (3 * sum(macs) - macs[0])


def torch_child(model_name, steps, warmup, threads, weights_dir, device, precision="fp32"):
    import contextlib
    import resource
    import time

    import numpy as np
    import torch
    import torch.nn as nn

    torch.set_num_threads(threads)
    blas = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.split()[-1]})

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

        def forward(self, x):
            x = torch.flatten(x, 1)
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
            x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

    class CnnSmall(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)
            self.fc1, self.fc2 = nn.Linear(3136, 128), nn.Linear(128, 10)

        def forward(self, x):
            x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
            x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            return self.fc2(torch.relu(self.fc1(x)))

    if model_name in EXPORTED:
        sys.path.insert(0, SUPPORT)
        import export_sequence_models
        model = export_sequence_models.build(model_name)
        model.load_state_dict(torch.load(os.path.join(weights_dir, model_name + ".pt")))
        model.train()
    else:
        model = {"mlp": Mlp, "lenet5": LeNet5, "cnn-small": CnnSmall}[model_name]()
        manifest = json.load(open(os.path.join(weights_dir, "manifest.json")))
        params = dict(model.named_parameters())
        with torch.no_grad():
            for entry in manifest:
                data = np.fromfile(os.path.join(weights_dir, entry["name"] + ".bin"), dtype=np.float32)
                params[entry["name"]].copy_(torch.from_numpy(data.reshape(entry["shape"])))
        assert len(manifest) == len(params), "parameter sets differ"

    with gzip.open(os.path.join(FASHION, "train-images-idx3-ubyte.gz")) as f:
        images = torch.from_numpy(np.frombuffer(f.read(), dtype=np.uint8, offset=16).copy()).view(-1, 1, 28, 28)
    with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
        labels = torch.from_numpy(np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64))
    scale, mean, std = 1.0 / 255.0, 0.2860, 0.3530

    dev = torch.device(device)
    model.to(dev)
    if device == "cuda":  # the whole training split on the GPU, as Netwright uploads each batch
        images, labels = images.to(dev), labels.to(dev)
    if model_name in EXPORTED:
        batch, _, lr = EXPORTED[model_name]
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        batch = 64
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    # PyTorch's CPU mixed precision: matmuls and convolutions in bf16 (backward follows), weights,
    # optimizer and the loss's reduction fp32.
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else contextlib.nullcontext
    start = None
    loss = None
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        lo = step * batch
        x = (images[lo:lo + batch].float() * scale - mean) / std
        y = labels[lo:lo + batch]
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        _ = (model_name, loss.item())  # the step's loss is read each step, as Netwright's trainer does
    if device == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"images_per_second": steps * batch / elapsed, "peak_rss_kb": rss,
                      "last_loss": float(loss.item()), "blas": blas, "torch": torch.__version__}))


def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "..", "build", "release"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--models", default=",".join(STEPS), help="which models, comma-separated")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                    help="bf16: also train each side in bf16 mixed precision and compare with its fp32")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "torch":
        steps, warmup = STEPS[args.model]
        torch_child(args.model, steps, warmup, args.threads, args.weights, args.device, args.precision)
        return
    if args.device == "cuda":
        probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available(), torch.version.cuda)"],
                               capture_output=True, text=True)
        available, built_with = (probe.stdout.split() + ["False", "None"])[:2]
        if available != "True":
            sys.exit("PyTorch cannot use a GPU here: " + ("this PyTorch is built without CUDA (Debian's python3-torch is "
                     "CPU-only)" if built_with == "None" else "no CUDA device is visible") + "; no GPU comparison was run.")

    bench = os.path.join(args.build, "tests", "bench", "netwright_train_bench" + ("_cuda" if args.device == "cuda" else ""))
    if not os.access(bench, os.X_OK):
        sys.exit(f"{bench} not found: build first (packaging/setup.sh test, or cmake --build --preset release)")
    torch_env = dict(os.environ, LD_LIBRARY_PATH=OPENBLAS_OPENMP, OMP_NUM_THREADS=str(args.threads))
    print(f"device {args.device}, threads {args.threads}, {args.rounds} alternating rounds, best round counts; zoo models: "
          f"batch 64, SGD momentum 0.9, lr 0.01; vit, lstm: ONNX exports of PyTorch modules, batch 128, Adam, lr 0.003 / 0.002")
    model_name = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    program = os.path.join(args.build, "app", "netwright")
    level = subprocess.run([program, "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-1:]
    print(f"CPU: {model_name}; Netwright {level[0] if level else '(no netwright program built)'}")
    rows = []
    bf16_rows = []
    blas = None
    for model in args.models.split(","):
        steps, warmup = STEPS[model]
        with tempfile.TemporaryDirectory() as weights:
            common = ["--model", model, "--steps", str(steps), "--warmup", str(warmup), "--threads", str(args.threads),
                      "--device", args.device]
            if model in EXPORTED:
                subprocess.run([sys.executable, os.path.join(SUPPORT, "export_sequence_models.py"), weights, model],
                               check=True, capture_output=True)
                batch, optimizer, lr = EXPORTED[model]
                common += ["--model-file", os.path.join(weights, model + ".onnx"), "--batch-size", str(batch),
                           "--optimizer", optimizer, "--lr", str(lr)]
            else:
                run([bench] + common + ["--dump-weights", weights])  # also a warm-up of the page cache
            nw, pt, nw16, pt16 = [], [], [], []
            torch_cmd = [sys.executable, __file__, "--child", "torch", "--model", model, "--threads", str(args.threads),
                         "--weights", weights, "--device", args.device]
            for _ in range(args.rounds):
                nw.append(run([bench] + common))
                pt.append(run(torch_cmd, env=torch_env))
                if args.precision == "bf16":
                    nw16.append(run([bench] + common + ["--precision", "bf16"]))
                    pt16.append(run(torch_cmd + ["--precision", "bf16"], env=torch_env))
        if nw16:
            best = lambda rs: max(rs, key=lambda r: r["images_per_second"])
            bf16_rows.append((model, best(nw), best(pt), best(nw16), best(pt16)))
        blas = pt[0]["blas"]
        best_nw = max(nw, key=lambda r: r["images_per_second"])
        best_pt = max(pt, key=lambda r: r["images_per_second"])
        rows.append((model, best_nw, best_pt, max(r["peak_rss_kb"] for r in nw), max(r["peak_rss_kb"] for r in pt)))
    print(f"PyTorch {pt[0]['torch']} mapped BLAS: {', '.join(blas) if blas else 'none found in /proc/self/maps'}")
    print()
    print(f"{'model':<10} {'Netwright img/s':>16} {'PyTorch img/s':>14} {'ratio':>6} {'NW peak RSS':>12} {'PT peak RSS':>12} "
          f"{'NW loss':>8} {'PT loss':>8}")
    for model, n, p, nrss, prss in rows:
        print(f"{model:<10} {n['images_per_second']:>16.0f} {p['images_per_second']:>14.0f} "
              f"{n['images_per_second'] / p['images_per_second']:>6.2f} {nrss / 1024:>9.0f} MiB {prss / 1024:>9.0f} MiB "
              f"{n['last_loss']:>8.4f} {p['last_loss']:>8.4f}")
    if bf16_rows:
        print()
        print("bf16 mixed precision (Netwright training.precision bf16; PyTorch torch.autocast(\"cpu\", dtype=torch.bfloat16)):")
        print(f"{'model':<10} {'NW bf16 img/s':>14} {'NW bf16/fp32':>13} {'PT bf16 img/s':>14} {'PT bf16/fp32':>13} "
              f"{'NW/PT bf16':>11} {'NW loss':>8} {'PT loss':>8}")
        for model, n, p, n16, p16 in bf16_rows:
            print(f"{model:<10} {n16['images_per_second']:>14.0f} {n16['images_per_second'] / n['images_per_second']:>13.2f} "
                  f"{p16['images_per_second']:>14.0f} {p16['images_per_second'] / p['images_per_second']:>13.2f} "
                  f"{n16['images_per_second'] / p16['images_per_second']:>11.2f} {n16['last_loss']:>8.4f} {p16['last_loss']:>8.4f}")
    peak_tool = os.path.join(args.build, "tests", "bench", "netwright_cpu_peak")
    if args.device == "cpu" and os.access(peak_tool, os.X_OK):
        peak = run([peak_tool, str(args.threads)])
        print()
        print(f"fp32 FMA peak of {args.threads} threads: {peak['peak_gflops']:.0f} GFLOP/s = {args.threads} x {peak['ghz']:.2f} GHz "
              f"(measured clock) x {peak['fma_per_cycle']:g} FMA/cycle x {peak['vector_bits'] // 32} lanes x 2 "
              f"(an FMA loop reaches {peak['measured_gflops']:.0f})")
        for model, n, p, _, _ in rows:
            if model in FORWARD_MACS:
                flops = train_flops_per_image(model)
                nw_g, pt_g = n["images_per_second"] * flops / 1e9, p["images_per_second"] * flops / 1e9
                print(f"{model:<10} {flops / 1e6:6.2f} MFLOP per image trained: Netwright {nw_g:6.1f} GFLOP/s "
                      f"({100 * nw_g / peak['peak_gflops']:4.1f} % of peak), PyTorch {pt_g:6.1f} GFLOP/s "
                      f"({100 * pt_g / peak['peak_gflops']:4.1f} %)")
        if bf16_rows and peak.get("avx512_bf16"):
            # Without AMX, oneDNN's bf16 products are VDPBF16PS dot products: their peak over the
            # FMA peak is the most a bf16 step can gain over fp32 on this CPU, all of it products.
            ceiling = peak["bf16_peak_gflops"] / peak["peak_gflops"]
            print(f"AVX512-BF16 dot-product peak of {args.threads} threads: {peak['bf16_peak_gflops']:.0f} GFLOP/s = "
                  f"{args.threads} x {peak['ghz']:.2f} GHz x {peak['bf16_dot_per_cycle']:g} VDPBF16PS/cycle x 16 lanes "
                  f"x 2 products x 2 (a dot-product loop reaches {peak['bf16_measured_gflops']:.0f}): {ceiling:.2f}x the fp32 "
                  f"peak, the most bf16 can gain over fp32 here" + (" without AMX (this CPU has AMX tiles, not measured)"
                                                                   if peak.get("amx_bf16") else " (no AMX on this CPU)"))
            for model, n, _, n16, _ in bf16_rows:
                if model in FORWARD_MACS:
                    flops = train_flops_per_image(model)
                    g16 = n16["images_per_second"] * flops / 1e9
                    print(f"{model:<10} bf16: Netwright {g16:6.1f} GFLOP/s ({100 * g16 / peak['bf16_peak_gflops']:4.1f} % of "
                          f"the bf16 peak), {n16['images_per_second'] / n['images_per_second']:.2f}x its fp32 images/s "
                          f"against the {ceiling:.2f}x ceiling")


if __name__ == "__main__":
    main()
