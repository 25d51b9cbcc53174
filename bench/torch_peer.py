#!/usr/bin/env python3
"""PyTorch peer for `npm run bench -- engine` (issue 23, items 1 and 2): the same work as fedrec's
figures, written as a PyTorch user would, on one thread.

 1. One FedAvg MF round over every ML-100K user (one user per client): each client copies the
    global item table and biases, trains its own user vector and the copied rows for 1 local epoch
    (batch 32, 4 uniform negatives per positive outside the user's positives, BCE with logits, SGD
    lr 1, L2 3e-3, dim 32), and the server averages the clients' deltas.
 2. One centralised NeuMF epoch (He et al., WWW 2017): GMF 32 wide, MLP tower 64→32→16→8 over two
    32-wide embeddings, one output logit, Adam 0.002, L2 3e-5, batch 256, 4 negatives.

Train = each user's interactions but the last two by time (fedrec's leave-one-out validation and
test items); the ids and split need not match fedrec's exactly, only the amount of work.
Prints one JSON line: {"fedavgRound": [s, ...], "neumfEpoch": [s, ...]} (CPU seconds of the process per run, time.process_time).
Usage: python3 bench/torch_peer.py ML100K_DIR [RUNS]
"""
import json
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
torch.manual_seed(42)
RNG = np.random.default_rng(42)


def load_train(path):
    raw = np.loadtxt(os.path.join(path, 'u.data'), dtype=np.int64)
    users, items, stamps = raw[:, 0] - 1, raw[:, 1] - 1, raw[:, 3]
    order = np.lexsort((items, stamps, users))
    users, items = users[order], items[order]
    n_users, n_items = int(users.max()) + 1, int(items.max()) + 1
    per_user = [items[users == u][:-2] for u in range(n_users)]
    return per_user, n_users, n_items


def negatives(positives, count, n_items):
    """count uniform items outside `positives` (rejection sampling)."""
    taken = np.zeros(n_items, dtype=bool)
    taken[positives] = True
    out = RNG.integers(0, n_items, size=count)
    bad = taken[out]
    while bad.any():
        out[bad] = RNG.integers(0, n_items, size=int(bad.sum()))
        bad = taken[out]
    return out


def examples(positives, n_neg, n_items):
    neg = negatives(positives, len(positives) * n_neg, n_items)
    items = np.concatenate([positives, neg])
    labels = np.concatenate([np.ones(len(positives), np.float32), np.zeros(len(neg), np.float32)])
    order = RNG.permutation(len(items))
    return items[order], labels[order]


def fedavg_round(per_user, n_items, dim=32):
    item_emb = torch.randn(n_items, dim) * 0.01
    item_bias = torch.zeros(n_items)
    sum_emb = torch.zeros_like(item_emb)
    sum_bias = torch.zeros_like(item_bias)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start = time.process_time()
    for positives in per_user:
        q = torch.nn.Parameter(item_emb.clone())
        b = torch.nn.Parameter(item_bias.clone())
        p = torch.nn.Parameter(torch.randn(dim) * 0.01)
        opt = torch.optim.SGD([q, b, p], lr=1.0, weight_decay=3e-3)
        items, labels = examples(positives, 4, n_items)
        items, labels = torch.from_numpy(items), torch.from_numpy(labels)
        for lo in range(0, len(items), 32):
            it, y = items[lo:lo + 32], labels[lo:lo + 32]
            opt.zero_grad()
            loss = loss_fn(q[it] @ p + b[it], y)
            loss.backward()
            opt.step()
        with torch.no_grad():
            sum_emb += q - item_emb
            sum_bias += b - item_bias
    with torch.no_grad():
        item_emb += sum_emb / len(per_user)
        item_bias += sum_bias / len(per_user)
    return time.process_time() - start


class NeuMF(torch.nn.Module):
    def __init__(self, n_users, n_items, dim=32, layers=(32, 16, 8)):
        super().__init__()
        self.gmf_user = torch.nn.Embedding(n_users, dim)
        self.gmf_item = torch.nn.Embedding(n_items, dim)
        self.mlp_user = torch.nn.Embedding(n_users, dim)
        self.mlp_item = torch.nn.Embedding(n_items, dim)
        tower, width = [], 2 * dim
        for out in layers:
            tower += [torch.nn.Linear(width, out), torch.nn.ReLU()]
            width = out
        self.tower = torch.nn.Sequential(*tower)
        self.out = torch.nn.Linear(dim + width, 1)
        for e in (self.gmf_user, self.gmf_item, self.mlp_user, self.mlp_item):
            torch.nn.init.normal_(e.weight, std=0.01)

    def forward(self, u, i):
        gmf = self.gmf_user(u) * self.gmf_item(i)
        mlp = self.tower(torch.cat([self.mlp_user(u), self.mlp_item(i)], dim=1))
        return self.out(torch.cat([gmf, mlp], dim=1)).squeeze(1)


def neumf_epoch(per_user, n_users, n_items):
    model = NeuMF(n_users, n_items)
    opt = torch.optim.Adam(model.parameters(), lr=0.002, weight_decay=3e-5)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start = time.process_time()
    us, its, ys = [], [], []
    for u, positives in enumerate(per_user):
        items, labels = examples(positives, 4, n_items)
        us.append(np.full(len(items), u))
        its.append(items)
        ys.append(labels)
    order = RNG.permutation(sum(len(x) for x in us))
    u_all = torch.from_numpy(np.concatenate(us)[order])
    i_all = torch.from_numpy(np.concatenate(its)[order])
    y_all = torch.from_numpy(np.concatenate(ys)[order])
    for lo in range(0, len(u_all), 256):
        opt.zero_grad()
        loss = loss_fn(model(u_all[lo:lo + 256], i_all[lo:lo + 256]), y_all[lo:lo + 256])
        loss.backward()
        opt.step()
    return time.process_time() - start


def main():
    if len(sys.argv) < 2:
        sys.exit('usage: torch_peer.py ML100K_DIR [RUNS]')
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    per_user, n_users, n_items = load_train(sys.argv[1])
    fedavg_round(per_user[:50], n_items)  # warm-up
    rounds = [fedavg_round(per_user, n_items) for _ in range(runs)]
    epochs = [neumf_epoch(per_user, n_users, n_items) for _ in range(runs)]
    print(json.dumps({'fedavgRound': rounds, 'neumfEpoch': epochs, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
