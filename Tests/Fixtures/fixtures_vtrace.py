"""Golden V-trace targets and advantages (IMPALA, Espeholt et al. 2018, §4.1), in numpy.

Independent of the Swift recursion: each v_s is the paper's explicit sum (eq. 1),

    v_s = V(x_s) + sum_{t=s}^{s+n-1} gamma^(t-s) (prod_{i=s}^{t-1} c_i) delta_t V,

written out term by term, where n runs to the end of the episode (terminated: the value beyond
is 0; truncated: the value beyond is V(final observation)) or of the rollout (bootstrap V(x_T)).
The advantage is rho_s (r_s + gamma v_{s+1} - V(x_s)) with v_{s+1} the next step's target, 0
after termination, V(final) after truncation, V(x_T) after the rollout's last step.

Keys, per case <k>: <k>.behaviour, .target, .rewards, .values, .terminated, .truncated,
.truncationValues ([T, N], step-major), <k>.bootstrap [N], <k>.settings [discount, rhoBar, cBar],
and the results <k>.vs, <k>.advantages [T, N].
"""
import numpy as np

from common import FixtureWriter


def vtrace_by_sums(behaviour, target, rewards, values, bootstrap, terminated, truncated, truncation_values,
                   discount, rho_bar, c_bar):
    steps, copies = rewards.shape
    ratio = np.exp(target.astype(np.float64) - behaviour.astype(np.float64))
    rho = np.minimum(rho_bar, ratio)
    c = np.minimum(c_bar, ratio)

    def next_value(t, i):
        if terminated[t, i]:
            return 0.0
        if truncated[t, i]:
            return truncation_values[t, i]
        return bootstrap[i] if t == steps - 1 else values[t + 1, i]

    def episode_end(s, i):  # the last step of the trace that starts at s
        t = s
        while t < steps - 1 and not (terminated[t, i] or truncated[t, i]):
            t += 1
        return t

    vs = np.zeros((steps, copies))
    for i in range(copies):
        for s in range(steps):
            total = values[s, i]
            for t in range(s, episode_end(s, i) + 1):
                delta = rho[t, i] * (rewards[t, i] + discount * next_value(t, i) - values[t, i])
                total += discount ** (t - s) * np.prod(c[s:t, i]) * delta
            vs[s, i] = total
    advantages = np.zeros((steps, copies))
    for i in range(copies):
        for s in range(steps):
            if terminated[s, i]:
                following = 0.0
            elif truncated[s, i]:
                following = truncation_values[s, i]
            elif s == steps - 1:
                following = bootstrap[i]
            else:
                following = vs[s + 1, i]
            advantages[s, i] = rho[s, i] * (rewards[s, i] + discount * following - values[s, i])
    return vs, advantages


def add_case(w, key, rng, steps, copies, discount, rho_bar, c_bar, on_policy=False):
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    behaviour = f32(np.log(rng.uniform(0.05, 0.95, (steps, copies))))
    target = behaviour.copy() if on_policy else f32(behaviour + rng.normal(0, 0.7, (steps, copies)))
    rewards = f32(rng.normal(0.5, 1.0, (steps, copies)))
    values = f32(rng.normal(0, 2.0, (steps, copies)))
    bootstrap = f32(rng.normal(0, 2.0, copies))
    ends = rng.uniform(size=(steps, copies))
    terminated = ends < 0.12
    truncated = (ends >= 0.12) & (ends < 0.22)
    truncation_values = f32(np.where(truncated, rng.normal(0, 2.0, (steps, copies)), 0))
    vs, advantages = vtrace_by_sums(behaviour, target, rewards, values, bootstrap, terminated, truncated,
                                    truncation_values, discount, rho_bar, c_bar)
    for name, value in [("behaviour", behaviour), ("target", target), ("rewards", rewards), ("values", values),
                        ("terminated", terminated), ("truncated", truncated), ("truncationValues", truncation_values),
                        ("bootstrap", bootstrap), ("settings", [discount, rho_bar, c_bar]),
                        ("vs", vs), ("advantages", advantages)]:
        w.add(f"{key}.{name}", np.asarray(value, dtype=np.float64))
    return int(terminated.sum()), int(truncated.sum())


def main():
    w = FixtureWriter("TesseraReinforcementTests", "vtrace")
    rng = np.random.default_rng(2018)
    print("  ends (terminated, truncated):",
          add_case(w, "clipped", rng, steps=9, copies=3, discount=0.99, rho_bar=1.0, c_bar=1.0),
          add_case(w, "looseRho", rng, steps=7, copies=4, discount=0.9, rho_bar=2.5, c_bar=0.8),
          add_case(w, "unclipped", rng, steps=6, copies=2, discount=0.95, rho_bar=1e6, c_bar=1e6),
          add_case(w, "onPolicy", rng, steps=8, copies=3, discount=0.97, rho_bar=1.0, c_bar=1.0, on_policy=True))
    w.write()


if __name__ == "__main__":
    main()
