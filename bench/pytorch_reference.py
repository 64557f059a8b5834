#!/usr/bin/env python3
"""PyTorch reference for `npm run bench`: the catvae model and training step.

Same model as src/model: encoder 784-512-256-(N*K) with ReLU on the hidden
layers, Gumbel-Softmax over K (torch.nn.functional.gumbel_softmax, soft),
decoder (N*K)-256-512-784 giving Bernoulli logits; loss per image = sum of
sigmoid cross-entropy over pixels + sum over N of KL(q || Uniform(K)) with
log q from log_softmax; mean over the batch; Adam (lr 1e-3). Inputs are
binarised MNIST (pixel > 127) when --images is given, else random 0/1.

Prints one JSON object on stdout: throughput over at least --seconds after
--warmup steps, and what the run used (threads, BLAS library, its core type
and thread count, flush-denormal). OpenBLAS reads OPENBLAS_CORETYPE and
OPENBLAS_NUM_THREADS from the environment at load time: set them outside. Written for this project; needs Debian's python3-torch and
libopenblas0 (see README).
"""
import argparse
import ctypes
import json
import math
import os
import resource
import time

import torch
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--latent-vars", type=int, default=20)
    p.add_argument("--categories", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--tau", type=float, default=1.0)
    p.add_argument("--images", help="MNIST train images, IDX format (uncompressed)")
    p.add_argument("--flush-denormal", type=int, default=1, help="torch.set_flush_denormal (1/0)")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def blas_info():
    """Which BLAS library the process loaded, and OpenBLAS's core type if it is OpenBLAS."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if "blas" in name or "mkl" in name:
                libs.add(os.path.realpath(path))
    core, threads = None, None
    for lib in sorted(libs):
        try:
            handle = ctypes.CDLL(lib)
            fn = handle.openblas_get_corename
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_char_p
        core = fn().decode()
        threads = handle.openblas_get_num_threads()
        break
    kind = "openblas" if core else ("reference" if any("/blas/" in l for l in libs) else "unknown")
    return {"library": kind, "paths": sorted(libs), "coretype": core, "threads": threads,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}


def load_images(path):
    with open(path, "rb") as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    pixels = torch.frombuffer(bytearray(data[16:16 + count * rows * cols]), dtype=torch.uint8)
    return (pixels.view(count, rows * cols) > 127).float()


class Vae(torch.nn.Module):
    def __init__(self, n, k, d=784):
        super().__init__()
        self.n, self.k = n, k
        self.enc = torch.nn.Sequential(torch.nn.Linear(d, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                       torch.nn.ReLU(), torch.nn.Linear(256, n * k))
        self.dec = torch.nn.Sequential(torch.nn.Linear(n * k, 256), torch.nn.ReLU(), torch.nn.Linear(256, 512),
                                       torch.nn.ReLU(), torch.nn.Linear(512, d))

    def loss(self, x, tau):
        logits = self.enc(x).view(-1, self.n, self.k)
        y = F.gumbel_softmax(logits, tau=tau, hard=False, dim=-1)
        x_logits = self.dec(y.view(-1, self.n * self.k))
        recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(-1)
        log_q = F.log_softmax(logits, dim=-1)
        kl = (log_q.exp() * log_q).sum(-1).add(math.log(self.k)).sum(-1)
        return (recon + kl).mean()


def main():
    a = parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    flushed = torch.set_flush_denormal(bool(a.flush_denormal)) and bool(a.flush_denormal)
    images = load_images(a.images) if a.images else (torch.rand(60000, 784) < 0.13).float()
    model = Vae(a.latent_vars, a.categories)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(a.seed)

    def step():
        idx = torch.randint(0, images.shape[0], (a.batch,), generator=gen)
        opt.zero_grad(set_to_none=True)
        loss = model.loss(images[idx], a.tau)
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    steps, start = 0, time.perf_counter()
    while True:
        loss = step()
        steps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= a.seconds:
            break
    ms = elapsed * 1000 / steps
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "batch": a.batch, "latentVars": a.latent_vars,
        "categories": a.categories, "threads": torch.get_num_threads(), "flushDenormal": flushed,
        "blas": blas_info(), "steps": steps, "seconds": elapsed, "msPerStep": ms,
        "imagesPerSecond": a.batch * 1000 / ms, "finalLoss": float(loss),
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
