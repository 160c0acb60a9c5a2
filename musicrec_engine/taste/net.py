"""The preference net: a small torch MLP ensemble with its own scaling and calibration.

Seed 004 trains one net with BCE and Adam and stops when the *test* accuracy reaches a target,
which makes its reported figure optimistic. Here each member of a small ensemble carves its own
validation split out of the training rows; early stopping and calibration only ever look at those.
Probabilities are Platt-scaled on the members' pooled validation logits (the rows each member
did not train on), so "0.8" means about four in five such tracks are liked.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import torch
from scipy.special import ndtri

from musicrec_engine.errors import MusicRecError
from musicrec_engine.jobs import Cancelled, Progress
from musicrec_engine.taste.context import FIELDS, ContextEncoder, Rows, as_rows

MIN_CALIBRATION = 60  # pooled held-out rows needed before Platt scaling is trusted


@dataclass
class TasteParams:
    """Seed 004's hyper-parameters (names kept) plus the ones this net adds."""

    test_size: float = 0.15  # share of the *training* rows held out for early stopping and calibration
    epochs: int = 200  # at most
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-3  # Adam's L2
    evaluate_every: int = 1  # epochs between validation checks
    target_accuracy: float | None = None  # stop a member once its validation accuracy reaches this
    patience: int = 25  # epochs without a better validation loss before stopping
    hidden: tuple[int, ...] = (64,)
    dropout: float = 0.3
    ensemble: int = 5
    seed: int = 0
    context: tuple[str, ...] = FIELDS  # artist / label / genre inputs, when the rows carry them
    artist_dropout: float = 0.3  # share of training rows shown as "artist not rated yet"

    @classmethod
    def from_dict(cls, d: dict | None) -> TasteParams:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in (d or {}).items() if k in names and v is not None}
        if "hidden" in kw:
            kw["hidden"] = tuple(int(h) for h in kw["hidden"])
        if "context" in kw:
            kw["context"] = tuple(str(c) for c in kw["context"])
        p = cls(**kw)
        p.check()
        return p

    def check(self) -> None:
        problems = []
        if not 0.05 <= self.test_size <= 0.5:
            problems.append("test_size must be between 0.05 and 0.5")
        for name in ("epochs", "batch_size", "evaluate_every", "ensemble", "patience"):
            if int(getattr(self, name)) < 1:
                problems.append(f"{name} must be at least 1")
        if not self.learning_rate > 0 or self.weight_decay < 0:
            problems.append("learning_rate must be > 0 and weight_decay >= 0")
        if not 0 <= self.dropout < 1:
            problems.append("dropout must be in [0, 1)")
        if not 0 <= self.artist_dropout < 1:
            problems.append("artist_dropout must be in [0, 1)")
        if set(self.context) - set(FIELDS):
            problems.append(f"context must be some of {', '.join(FIELDS)}")
        if self.target_accuracy is not None and not 0 < self.target_accuracy <= 1:
            problems.append("target_accuracy must be in (0, 1]")
        if problems:
            raise MusicRecError("bad taste-model settings: " + "; ".join(problems))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["context"] = list(self.context)
        return d


class Scaler:
    """Per continuous column: quantiles -> standard normal, then z-score; yes/no columns unchanged.

    Tabular features such as spectral centroid or beat counts are skewed with long tails; mapping
    them through their training quantiles gives the net evenly spread inputs and makes an outlier
    harmless. The map is piecewise linear between the training quantiles and their normal scores
    (one np.interp per column, no inverse-normal per value: scoring a million rows stays cheap).
    Stored as plain arrays so the model file needs no pickle."""

    N_QUANTILES = 200
    SCALE_BINARY_FROM = 200  # rows

    def fit(self, X: np.ndarray) -> Scaler:
        X = np.asarray(X, np.float64)
        self.continuous = np.array([len(np.unique(X[:, j])) > 2 for j in range(X.shape[1])], bool)
        refs = np.linspace(0, 1, min(self.N_QUANTILES, max(2, len(X))))
        self.refs = refs
        self.quantiles = np.quantile(X[:, self.continuous], refs, axis=0) if self.continuous.any() else \
            np.zeros((len(refs), 0))
        Z = self._quantile(X)
        # With few ratings, yes/no columns (one-hot key, tempo bin, era steps) pass through:
        # z-scoring a rare one turns it into a huge input that a net fitted to a few dozen ratings
        # latches onto. With hundreds, a rare category is evidence and gets its z-score.
        scaled = self.continuous | (len(X) >= self.SCALE_BINARY_FROM)
        self.mean = np.where(scaled, Z.mean(axis=0, dtype=np.float64), 0.0)
        sd = Z.std(axis=0, dtype=np.float64)
        # a column that is constant but for rounding (no one rated that label yet) stays unscaled:
        # dividing by its 1e-7 spread would turn rounding noise into the largest input
        self.std = np.where(scaled & (sd > 1e-3), sd, 1.0)
        return self

    def _quantile(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        Z = np.array(X, np.float32, copy=True) if out is None else out
        z = ndtri(np.clip(self.refs, 1e-4, 1 - 1e-4))  # +-3.7 at the ends: the outlier cap
        for k, j in enumerate(np.nonzero(self.continuous)[0]):
            q = self.quantiles[:, k]
            x = Z[:, j]
            v = np.interp(x, q, z)
            if (np.diff(q) <= 0).any():
                # tied quantiles: average the forward and backward interpolation, as sklearn does,
                # so a tied value lands mid-rank (only paid for columns that have ties)
                v = 0.5 * (v - np.interp(-x, -q[::-1], -z[::-1]))
            Z[:, j] = v
        return Z

    def transform(self, X: np.ndarray) -> np.ndarray:
        Z = self._quantile(X)
        Z -= self.mean.astype(np.float32)
        Z /= self.std.astype(np.float32)
        return Z

    def state(self) -> dict[str, np.ndarray]:
        return {"continuous": self.continuous, "refs": self.refs, "quantiles": self.quantiles,
                "mean": self.mean, "std": self.std}

    @classmethod
    def from_state(cls, s: dict[str, np.ndarray]) -> Scaler:
        self = cls()
        self.continuous = np.asarray(s["continuous"], bool)
        for k in ("refs", "quantiles", "mean", "std"):
            setattr(self, k, np.asarray(s[k], np.float64))
        return self


def build_net(n_in: int, hidden: tuple[int, ...], dropout: float) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    d = n_in
    for h in hidden:
        layers += [torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
        d = h
    layers.append(torch.nn.Linear(d, 1))
    return torch.nn.Sequential(*layers)


@dataclass
class Ensemble:
    scaler: Scaler
    states: list[dict[str, np.ndarray]]
    hidden: tuple[int, ...]
    platt: tuple[float, float] = (1.0, 0.0)  # calibrated logit = a * logit + b
    history: list[dict] = field(default_factory=list)  # per member: epochs run, best epoch, val loss/acc
    context: ContextEncoder | None = None  # artist / label / genre inputs appended to the features
    fit_inputs: np.ndarray | None = None  # the training rows as the nets saw them (not saved)

    CHUNK = 65_536  # rows per step when scoring: (chunk x members*hidden) floats stay in cache-sized MBs

    def nets(self) -> list[torch.nn.Sequential]:
        out = []
        for st in self.states:
            net = build_net(int(st["0.weight"].shape[1]), self.hidden, 0.0)
            net.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in st.items()})
            net.eval()
            out.append(net)
        return out

    def inputs(self, data) -> np.ndarray:
        """The nets' raw input matrix: the features, then the context columns if the model has them."""
        rows = as_rows(data)
        X = np.asarray(rows.X, np.float32)
        if self.context is None:
            return X
        return np.hstack([X, self.context.transform(rows.context, len(X))])

    def _packed(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """All members as one wide network: the first layers side by side with the z-score folded
        in, later layers block-diagonal, Platt's a and b folded into the output layer. Scoring is
        then one matmul per layer for the whole ensemble."""
        if getattr(self, "_pack", None) is not None:
            return self._pack
        L = len(self.hidden) + 1
        mean, std = self.scaler.mean, self.scaler.std
        a, b = self.platt
        layers = []
        for i in range(L):
            Ws = [np.asarray(st[f"{3 * i}.weight"], np.float64).T for st in self.states]  # (d_in, d_out)
            bs = [np.asarray(st[f"{3 * i}.bias"], np.float64) for st in self.states]
            if i == 0:
                W = np.hstack([w / std[:, None] for w in Ws])
                bias = np.concatenate([bb - (mean / std) @ w for w, bb in zip(Ws, bs, strict=True)])
            else:
                from scipy.linalg import block_diag

                W, bias = block_diag(*Ws), np.concatenate(bs)
            if i == L - 1:
                W, bias = a * W, a * bias + b
            layers.append((torch.from_numpy(W.astype(np.float32)), torch.from_numpy(bias.astype(np.float32))))
        self._pack = layers
        return layers

    def proba_inputs(self, X: np.ndarray) -> np.ndarray:
        """Calibrated p(like), the members' mean, for rows of the nets' raw input matrix."""
        layers = self._packed()
        out = np.empty(len(X), np.float64)
        buf = np.empty((min(self.CHUNK, len(X)), X.shape[1]), np.float32)
        with torch.inference_mode():
            for s in range(0, len(X), self.CHUNK):
                n = min(self.CHUNK, len(X) - s)
                Q = buf[:n]
                Q[:] = X[s:s + n]
                h = torch.from_numpy(self.scaler._quantile(Q, out=Q))
                for i, (W, bias) in enumerate(layers):
                    h = torch.addmm(bias, h, W)
                    if i < len(layers) - 1:
                        h.clamp_(min=0)
                out[s:s + n] = torch.sigmoid_(h).mean(1).numpy()
        return out

    def predict_proba(self, data) -> np.ndarray:
        return self.proba_inputs(self.inputs(data))


def _split(y: np.ndarray, test_size: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stratified: each class gives its share (at least one row) to validation."""
    val = []
    for c in (0, 1):
        idx = rng.permutation(np.nonzero(y == c)[0])
        k = max(1, int(round(len(idx) * test_size))) if len(idx) > 1 else 0
        val.append(idx[:k])
    val_idx = np.sort(np.concatenate(val))
    train_idx = np.setdiff1d(np.arange(len(y)), val_idx)
    return train_idx, val_idx


def _fit_members(Xs: np.ndarray, y: np.ndarray, p: TasteParams, cancel: threading.Event | None):
    """Train all ensemble members at once as one batched network (weights stacked on a leading
    member axis): on a small CPU the per-step overhead, not the arithmetic, is the cost, so M nets
    in one step train about M times faster than one after another. Members stay independent: each
    has its own validation split, minibatches, initialisation, early stopping and best state."""
    M = p.ensemble
    splits = [_split(y, p.test_size, np.random.default_rng(p.seed + m)) for m in range(M)]
    tr = torch.from_numpy(np.stack([t for t, _ in splits]))  # same size for every member (stratified)
    va = [v for _, v in splits]
    torch.manual_seed(p.seed)
    dims = [Xs.shape[1], *p.hidden, 1]
    Ws, bs = [], []
    for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
        bound = 1.0 / np.sqrt(d_in)  # nn.Linear's default initialisation
        Ws.append(torch.empty(M, d_in, d_out).uniform_(-bound, bound).requires_grad_(True))
        bs.append(torch.empty(M, 1, d_out).uniform_(-bound, bound).requires_grad_(True))
    params = Ws + bs
    # at least logistic regression's usual L2 (C=1 is 1/n per row): with few ratings the net must
    # lean on the strongest signal; from about a thousand ratings the setting given rules
    weight_decay = max(p.weight_decay, 1.0 / tr.shape[1])
    opt = torch.optim.Adam(params, lr=p.learning_rate, weight_decay=weight_decay, foreach=True)
    X_t, y_t = torch.from_numpy(Xs), torch.from_numpy(y.astype(np.float32))

    def forward(x: torch.Tensor, train: bool) -> torch.Tensor:  # x: (M, B, d) -> (M, B)
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            x = torch.baddbmm(b, x, W)
            if i < len(Ws) - 1:
                x = torch.nn.functional.dropout(torch.relu(x), p.dropout, train)
        return x[..., 0]

    n_tr = tr.shape[1]
    # with a few dozen ratings one batch would be the whole set and an epoch a single step: cap the
    # batch so every epoch has at least 4 steps, else early stopping ends before anything is learnt
    batch = int(min(p.batch_size, max(8, -(-n_tr // 4))))
    va_t = torch.from_numpy(np.stack(va))  # same size for every member, too
    xv, yv = X_t[va_t], y_t[va_t]
    gen = torch.Generator().manual_seed(p.seed)
    best_loss = np.full(M, np.inf)
    best_epoch = np.zeros(M, int)
    best = [t.detach().clone() for t in params]
    done = np.zeros(M, bool)
    epochs_run = np.zeros(M, int)
    epoch = 0
    for epoch in range(1, p.epochs + 1):
        if cancel is not None and cancel.is_set():
            raise Cancelled("training cancelled; the previous model is kept")
        order = tr.gather(1, torch.argsort(torch.rand(M, n_tr, generator=gen), dim=1))
        for s in range(0, n_tr, batch):
            idx = order[:, s:s + batch]
            opt.zero_grad()
            # mean over rows, summed over members: each member's gradient is its own BCE's
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                forward(X_t[idx], True), y_t[idx], reduction="none").mean(1).sum()
            loss.backward()
            opt.step()
        if epoch % p.evaluate_every:
            continue
        with torch.no_grad():
            lv = forward(xv, False)
            vloss = torch.nn.functional.binary_cross_entropy_with_logits(lv, yv, reduction="none").mean(1).numpy()
            acc = ((lv > 0).float() == yv).float().mean(1).numpy()
            better = (vloss < best_loss - 1e-5) & ~done
            if better.any():
                mask = torch.from_numpy(better)
                for bt, t in zip(best, params, strict=True):
                    bt[mask] = t.detach()[mask]
                best_loss[better], best_epoch[better] = vloss[better], epoch
            stop = ~done & ((epoch - best_epoch >= p.patience) |
                            ((acc >= p.target_accuracy) if p.target_accuracy is not None else False))
            done |= stop
            epochs_run[stop] = epoch
        if done.all():
            break
    epochs_run[~done] = epoch
    L = len(Ws)
    with torch.no_grad():
        Ws[:], bs[:] = best[:L], best[L:]  # forward() reads these lists
        val_logits = forward(xv, False).numpy()
    states, history = [], []
    for m in range(M):
        # nn.Sequential numbering (Linear, ReLU, Dropout per hidden layer), for the inference nets
        states.append({k: v for i in range(L) for k, v in (
            (f"{3 * i}.weight", best[i][m].T.contiguous().numpy()),
            (f"{3 * i}.bias", best[L + i][m][0].contiguous().numpy()))})
        history.append({"epochs_run": int(epochs_run[m]), "best_epoch": int(best_epoch[m]),
                        "weight_decay": round(weight_decay, 6),
                        "val_loss": round(float(best_loss[m]), 4),
                        "val_accuracy": round(float(((val_logits[m] > 0) == (y[va[m]] == 1)).mean()), 4),
                        "val_rows": len(va[m])})
    return states, list(val_logits), [y[v] for v in va], history


def _platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """1-D logistic regression on held-out logits. With few held-out rows (a new user's first few
    dozen ratings) a fitted slope collapses towards zero and every track would get the base rate,
    so below MIN_CALIBRATION rows, or for an implausible fit, the raw logits are kept."""
    if len(np.unique(y)) < 2 or len(y) < MIN_CALIBRATION:
        return 1.0, 0.0
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4).fit(logits[:, None], y)
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    return (a, b) if 0.2 <= a <= 5.0 else (1.0, 0.0)


def fit_ensemble(data, y: np.ndarray, params: TasteParams,
                 progress: Progress | None = None,
                 cancel: threading.Event | None = None) -> Ensemble:
    """`data`: a feature matrix, or Rows (features + artist/label/genre strings per row)."""
    # Nets this small gain nothing from threads, and on a busy machine OpenMP workers spinning
    # for a core make each step many times slower: one thread, restored afterwards.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit_ensemble(as_rows(data), y, params, progress, cancel)
    finally:
        torch.set_num_threads(threads)


def _fit_ensemble(rows: Rows, y, params: TasteParams, progress, cancel) -> Ensemble:
    X = np.asarray(rows.X, np.float32)
    y = np.asarray(y, np.int64)
    context = None
    if rows.context is not None and params.context:
        context = ContextEncoder(params.context, params.artist_dropout, seed=params.seed)
        X = np.hstack([X, context.fit_transform(rows.context, y)])
    scaler = Scaler().fit(X)
    Xs = scaler.transform(X)
    if progress:
        progress(0, 1, f"training {params.ensemble} nets")
    states, logits, labels, history = _fit_members(Xs, y, params, cancel)
    ens = Ensemble(scaler, states, tuple(params.hidden), history=history, context=context, fit_inputs=X)
    ens.platt = _platt(np.concatenate(logits), np.concatenate(labels))
    if progress:
        progress(1, 1, "nets trained")
    return ens


def sensitivities(ens: Ensemble, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per input over the rows X (the nets' raw input matrix): mean d(probability)/d(input in
    standard deviations) (its direction: + pushes towards like) and mean |d p / d input| (its
    importance)."""
    Xs = torch.from_numpy(ens.scaler.transform(X)).requires_grad_(True)
    a, b = ens.platt
    p = torch.stack([torch.sigmoid(a * net(Xs)[:, 0] + b) for net in ens.nets()]).mean(0)
    (g,) = torch.autograd.grad(p.sum(), Xs)
    g = g.numpy()
    return g.mean(axis=0), np.abs(g).mean(axis=0)
