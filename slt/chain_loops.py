"""The per-chain loops of the dynamics kernels, as a template bound to one potential at a time.

Why a template: Numba caches machine code only for functions whose globals are fixed, and a
function passed as an argument (``grad``) is a "dynamic global" that defeats the cache. So
:func:`slt.kernels.kernels_for` copies this file's text into a generated module next to the
potential's own generated module, appends ``grad = <that potential's grad>`` (and
``sample_loss_grad`` for a toy model), and switches ``_CACHE`` on. A second process then loads the
loops from Numba's disk cache instead of compiling them. The loops below read ``grad`` and
``sample_loss_grad`` as module globals; the placeholders only keep this file importable.

All methods share one linear update (see :mod:`slt.kernels` for the mapping of GD, SGD, Langevin
and SGLD onto the coefficients):

    v ← μ v + ĝ                  (ĝ: full or minibatch gradient at w; v = ĝ when μ = 0)
    w ← w − a_grad v − a_loc (w − w*) + σ ξ,      ξ ~ N(0, I_d) from the chain's own stream

Step ``s`` (global count, from 0) evaluates the loss and gradient at w_s, records them with w_s
when ``s % record_every == 0``, feeds the loss to the running statistics when ``s >= burn_in``,
then moves to w_{s+1}. A chain diverges at the first state that is non-finite or has a coordinate
with ``|w_j| > bound`` (or whose loss is non-finite): it stops there, keeps its last good state, and
the loop returns that state's step number (−1 while running).

``mala`` (full batch only) uses the ``sgld`` coefficients to *propose* w' = w − δ(w) + σξ and accepts it
with the Metropolis–Hastings probability for the target ∝ exp(−U), U = (2/ε)[a_grad K(w) + (a_loc/2)
‖w − w*‖²] (= nβK + (γ/2)‖w − w*‖², ε = σ²). The drift δ = a_grad ∇K + a_loc (w − w*) is shortened to
length ``cap`` when longer: the truncated-drift MALA (MALTA) of Roberts & Tweedie (1996, Bernoulli 2(4),
§1.4.3). Without it a chain that finds itself where K grows faster than quadratically proposes ever larger
overshoots, all rejected, and freezes (measured: chains started from N(0, 1) on x⁴ at nβ = 10⁵ never
moved); with it such a chain walks down at ``cap`` per step. The proposal density uses the same truncated
drift both ways, so the stationary law is exact. A rejected step repeats the state, which enters the loss
statistics again. Per step: d normals, then one uniform. A proposal that leaves ``bound`` or whose loss
is not finite is rejected, not a divergence.

Minibatches (toy models) come in three modes: ``ALL_DATA`` (every sample, in order: the full
gradient of L_n), ``WITH_REPLACEMENT`` (``batch_size`` uniform indices per step) and
``WITHOUT_REPLACEMENT`` (each chain walks its own shuffled epochs, consecutive slices of a
permutation; the incomplete last slice is dropped). Random numbers per step, in this order: the
minibatch (``batch_size`` indices, or one 64-bit word to shuffle a new epoch), then d normals
(only when σ > 0).
"""

import math

import numpy as np
from numba import njit

from slt.kernels import ALL_DATA, WITH_REPLACEMENT, WITHOUT_REPLACEMENT, push_loss, shuffle_indices
from slt.rng import index_below_t, next_word, normal_t, uniform_t

_CACHE = False  # the generated copies say True


def grad(w, out):  # placeholder, replaced in the generated module
    raise NotImplementedError


def sample_loss_grad(w, x, y, out):  # placeholder, replaced in the generated module
    raise NotImplementedError


@njit(cache=_CACHE)
def _record(r, chain, w, g, loss, rec_pos, rec_loss, rec_gnorm):
    if rec_pos.shape[0] > 0:
        for j in range(w.shape[0]):
            rec_pos[r, chain, j] = w[j]
    if rec_loss.shape[0] > 0:
        rec_loss[r, chain] = loss
    if rec_gnorm.shape[0] > 0:
        total = 0.0
        for j in range(g.shape[0]):
            total += g[j] * g[j]
        rec_gnorm[r, chain] = math.sqrt(total)


@njit(cache=_CACHE)
def _first_record(first_step, record_every):
    """The first multiple of record_every at or after first_step."""
    return -(-first_step // record_every) * record_every


@njit(cache=_CACHE)
def _full_batch_chain(w_row, v, state, stats, w_star, a_grad, a_loc, sigma, momentum, first_step, steps,
                      record_every, burn_in, bound, rec_pos, rec_loss, rec_gnorm, chain):
    # The chain's RNG state and loss sums live in locals (registers) during the loop and go back to
    # their arrays at the end: stores into arrays that may alias each other forced reloads every step.
    d = w_row.shape[0]
    w = np.empty(d)
    for j in range(d):
        w[j] = w_row[j]
    w_new = np.empty(d)
    g = np.empty(d)
    t = (state[0], state[1], state[2], state[3])
    acc = (stats[0], stats[1], stats[2], stats[3])
    next_record = _first_record(first_step, record_every)
    status = -1
    for step in range(first_step, first_step + steps):
        loss = grad(w, g)
        if not math.isfinite(loss):
            status = step
            break
        if step == next_record:
            _record(step // record_every, chain, w, g, loss, rec_pos, rec_loss, rec_gnorm)
            next_record += record_every
        if step >= burn_in:
            acc = push_loss(acc, loss)
        # The update, written out here rather than in a helper: Numba's inlining of a helper that takes
        # arrays adds reference counting per call, which doubled the cost of a step.
        if momentum != 0.0:
            for j in range(d):
                v[j] = momentum * v[j] + g[j]
                g[j] = v[j]
        inside = True
        if sigma != 0.0:
            for j in range(d):
                xi, t = normal_t(t)
                x = w[j] - a_grad * g[j] - a_loc * (w[j] - w_star[j]) + sigma * xi
                w_new[j] = x
                inside &= abs(x) <= bound  # False for NaN too
        else:
            for j in range(d):
                x = w[j] - a_grad * g[j] - a_loc * (w[j] - w_star[j])
                w_new[j] = x
                inside &= abs(x) <= bound
        if not inside:
            status = step + 1
            break
        w, w_new = w_new, w
    for j in range(d):
        w_row[j] = w[j]
    state[0], state[1], state[2], state[3] = t
    stats[0], stats[1], stats[2], stats[3] = acc
    return status


@njit(nogil=True, cache=_CACHE)
def full_batch(W, V, states, stats, diverged_at, w_star, a_grad, a_loc, sigma, momentum, first_step, steps,
               record_every, burn_in, bound, rec_pos, rec_loss, rec_gnorm, first_chain, last_chain):
    """Advance running chains ``first_chain .. last_chain − 1`` by ``steps`` steps with the full gradient
    ``grad`` (see module doc). Releases the GIL: :mod:`slt.dynamics` runs disjoint chunks in threads."""
    for c in range(first_chain, last_chain):
        if diverged_at[c] < 0:
            diverged_at[c] = _full_batch_chain(
                W[c], V[c], states[c], stats[c], w_star[c], a_grad, a_loc, sigma, momentum, first_step,
                steps, record_every, burn_in, bound, rec_pos, rec_loss, rec_gnorm, c,
            )


@njit(cache=_CACHE)
def _capped_drift(w, g, w_star, a_grad, a_loc, cap, out):
    """out ← the proposal's drift a_grad ∇K + a_loc (w − w*), shortened to length ``cap`` if longer."""
    total = 0.0
    for j in range(w.shape[0]):
        x = a_grad * g[j] + a_loc * (w[j] - w_star[j])
        out[j] = x
        total += x * x
    if total > cap * cap:
        shrink = cap / math.sqrt(total)
        for j in range(w.shape[0]):
            out[j] *= shrink


@njit(cache=_CACHE)
def _mala_chain(w_row, state, stats, accepted, w_star, a_grad, a_loc, sigma, cap, first_step, steps,
                record_every, burn_in, bound, rec_pos, rec_loss, rec_gnorm, chain):
    d = w_row.shape[0]
    w = np.empty(d)
    for j in range(d):
        w[j] = w_row[j]
    p = np.empty(d)
    g = np.empty(d)
    g_p = np.empty(d)
    drift = np.empty(d)
    drift_p = np.empty(d)
    t = (state[0], state[1], state[2], state[3])
    acc = (stats[0], stats[1], stats[2], stats[3])
    inv_two_eps = 0.5 / (sigma * sigma)
    n_accepted = accepted[0]
    loss = grad(w, g)
    inside = math.isfinite(loss)
    for j in range(d):
        inside &= abs(w[j]) <= bound
    if not inside:
        return first_step
    # h(w) = (ε/2) U(w), so that U(w) − U(w') = (2/ε)(h(w) − h(w'))
    h_w = a_grad * loss
    for j in range(d):
        h_w += 0.5 * a_loc * (w[j] - w_star[j]) ** 2
    _capped_drift(w, g, w_star, a_grad, a_loc, cap, drift)
    next_record = _first_record(first_step, record_every)
    for step in range(first_step, first_step + steps):
        if step == next_record:
            _record(step // record_every, chain, w, g, loss, rec_pos, rec_loss, rec_gnorm)
            next_record += record_every
        if step >= burn_in:
            acc = push_loss(acc, loss)
        forward = 0.0
        inside = True
        for j in range(d):
            xi, t = normal_t(t)
            x = w[j] - drift[j] + sigma * xi
            p[j] = x
            forward += xi * xi
            inside &= abs(x) <= bound  # False for NaN too
        u, t = uniform_t(t)
        if not inside:
            continue
        loss_p = grad(p, g_p)
        if not math.isfinite(loss_p):
            continue
        _capped_drift(p, g_p, w_star, a_grad, a_loc, cap, drift_p)
        h_p = a_grad * loss_p
        backward = 0.0
        for j in range(d):
            h_p += 0.5 * a_loc * (p[j] - w_star[j]) ** 2
            r = w[j] - p[j] + drift_p[j]
            backward += r * r
        log_ratio = 4.0 * inv_two_eps * (h_w - h_p) + 0.5 * forward - inv_two_eps * backward
        if log_ratio >= 0.0 or u < math.exp(log_ratio):
            # copied, not swapped: swapping array references in the loop costs reference counting
            for j in range(d):
                w[j] = p[j]
                g[j] = g_p[j]
                drift[j] = drift_p[j]
            loss = loss_p
            h_w = h_p
            n_accepted += 1.0
    for j in range(d):
        w_row[j] = w[j]
    state[0], state[1], state[2], state[3] = t
    stats[0], stats[1], stats[2], stats[3] = acc
    accepted[0] = n_accepted
    return -1


@njit(nogil=True, cache=_CACHE)
def full_batch_mala(W, states, stats, accepted, diverged_at, w_star, a_grad, a_loc, sigma, cap, first_step,
                    steps, record_every, burn_in, bound, rec_pos, rec_loss, rec_gnorm, first_chain,
                    last_chain):
    """Metropolis-adjusted Langevin steps (module doc) for chains ``first_chain .. last_chain − 1``;
    ``accepted[c, 0]`` counts chain c's accepted proposals. Releases the GIL, as :func:`full_batch`."""
    for c in range(first_chain, last_chain):
        if diverged_at[c] < 0:
            diverged_at[c] = _mala_chain(
                W[c], states[c], stats[c], accepted[c], w_star[c], a_grad, a_loc, sigma, cap, first_step,
                steps, record_every, burn_in, bound, rec_pos, rec_loss, rec_gnorm, c,
            )

@njit(cache=_CACHE)
def _minibatch_chain(w_row, v, state, stats, w_star, X, Y, batch_size, mode, epoch, a_grad, a_loc, sigma,
                     momentum, first_step, steps, record_every, burn_in, bound, rec_pos, rec_loss, rec_gnorm,
                     chain):
    """``epoch`` = [shuffle word, position in the epoch] of this chain (mode WITHOUT_REPLACEMENT)."""
    d = w_row.shape[0]
    n = X.shape[0]
    w = np.empty(d)
    for j in range(d):
        w[j] = w_row[j]
    w_new = np.empty(d)
    g = np.empty(d)
    g_i = np.empty(d)
    t = (state[0], state[1], state[2], state[3])
    acc = (stats[0], stats[1], stats[2], stats[3])
    shuffled = mode == WITHOUT_REPLACEMENT
    perm = np.empty(n if shuffled else 0, dtype=np.intp)
    if shuffled and epoch[1] > 0:
        shuffle_indices(perm, np.uint64(epoch[0]))  # rebuild the epoch that a previous call began
    next_record = _first_record(first_step, record_every)
    status = -1
    for step in range(first_step, first_step + steps):
        if shuffled and epoch[1] == 0:
            word, t = next_word(t)
            epoch[0] = np.int64(word)
            shuffle_indices(perm, word)
        for j in range(d):
            g[j] = 0.0
        loss = 0.0
        for b in range(batch_size):
            if mode == ALL_DATA:
                i = b
            elif mode == WITH_REPLACEMENT:
                i, t = index_below_t(t, n)
            else:
                i = perm[epoch[1] + b]
            loss += sample_loss_grad(w, X[i], Y[i], g_i)
            for j in range(d):
                g[j] += g_i[j]
        if shuffled:
            epoch[1] += batch_size
            if epoch[1] + batch_size > n:
                epoch[1] = 0
        loss /= batch_size
        for j in range(d):
            g[j] /= batch_size
        if not math.isfinite(loss):
            status = step
            break
        if step == next_record:
            _record(step // record_every, chain, w, g, loss, rec_pos, rec_loss, rec_gnorm)
            next_record += record_every
        if step >= burn_in:
            acc = push_loss(acc, loss)
        # The update, written out here rather than in a helper: Numba's inlining of a helper that takes
        # arrays adds reference counting per call, which doubled the cost of a step.
        if momentum != 0.0:
            for j in range(d):
                v[j] = momentum * v[j] + g[j]
                g[j] = v[j]
        inside = True
        if sigma != 0.0:
            for j in range(d):
                xi, t = normal_t(t)
                x = w[j] - a_grad * g[j] - a_loc * (w[j] - w_star[j]) + sigma * xi
                w_new[j] = x
                inside &= abs(x) <= bound  # False for NaN too
        else:
            for j in range(d):
                x = w[j] - a_grad * g[j] - a_loc * (w[j] - w_star[j])
                w_new[j] = x
                inside &= abs(x) <= bound
        if not inside:
            status = step + 1
            break
        w, w_new = w_new, w
    for j in range(d):
        w_row[j] = w[j]
    state[0], state[1], state[2], state[3] = t
    stats[0], stats[1], stats[2], stats[3] = acc
    return status


@njit(nogil=True, cache=_CACHE)
def minibatch(W, V, states, stats, diverged_at, w_star, X, Y, batch_size, mode, epochs, a_grad, a_loc,
              sigma, momentum, first_step, steps, record_every, burn_in, bound, rec_pos, rec_loss, rec_gnorm,
              first_chain, last_chain):
    """Advance running chains ``first_chain .. last_chain − 1`` by ``steps`` steps with minibatch gradients
    of ``sample_loss_grad``. Releases the GIL, as :func:`full_batch`."""
    for c in range(first_chain, last_chain):
        if diverged_at[c] < 0:
            diverged_at[c] = _minibatch_chain(
                W[c], V[c], states[c], stats[c], w_star[c], X, Y, batch_size, mode, epochs[c], a_grad,
                a_loc, sigma, momentum, first_step, steps, record_every, burn_in, bound, rec_pos, rec_loss,
                rec_gnorm, c,
            )
