"""Golden trajectories for TesseraReinforcement, generated with Gymnasium.

Each episode is reset with a fixed seed; the start state is then rounded to float32 and written
back (`env.unwrapped.state`), so the Swift test can start from exactly the same state although
its random stream differs from numpy's. The actions come from a fixed numpy generator or a
simple controller (to reach the goal, or to balance until the time limit), and every step's
observation, reward, terminated and truncated is stored.

Keys, per environment `<env>` and episode `<k>`:
  <env>.<k>.state         the float32-rounded start state (the environment's internal state)
  <env>.<k>.actions       [T] (discrete) or [T, 1] (Pendulum)
  <env>.<k>.observations  [T + 1, d]: the reset observation, then one per step
  <env>.<k>.rewards, .terminated, .truncated   [T]
For the toy-text environments the full transition table `env.P` is stored instead:
  <env>.table  [states, actions, outcomes, 4] with (probability, next state, reward, terminated)
"""
import gymnasium as gym
import numpy as np

from common import FixtureWriter


def record(w, key, env_id, seed, choose, set_state=True, **options):
    env = gym.make(env_id, **options)
    obs, _ = env.reset(seed=seed)
    inner = env.unwrapped
    if set_state:
        inner.state = np.asarray(inner.state, dtype=np.float32).astype(np.float64)
        obs = inner._get_ob() if hasattr(inner, "_get_ob") else (
            inner._get_obs() if hasattr(inner, "_get_obs") else np.array(inner.state, dtype=np.float32))
        w.add(f"{key}.state", np.asarray(inner.state))
    observations, actions, rewards, terminated, truncated = [obs], [], [], [], []
    rng = np.random.default_rng(seed)
    while True:
        action = choose(obs, rng)
        obs, reward, term, trunc, _ = env.step(action)
        actions.append(action)
        observations.append(obs)
        rewards.append(reward)
        terminated.append(term)
        truncated.append(trunc)
        if term or trunc:
            break
    w.add(f"{key}.actions", np.asarray(actions))
    w.add(f"{key}.observations", np.asarray(observations))
    w.add(f"{key}.rewards", np.asarray(rewards, dtype=np.float64))
    w.add(f"{key}.terminated", np.asarray(terminated, dtype=np.float32))
    w.add(f"{key}.truncated", np.asarray(truncated, dtype=np.float32))
    return len(actions), terminated[-1], truncated[-1]


def table(w, key, env):
    P = env.unwrapped.P
    states, actions = len(P), len(P[0])
    width = max(len(P[s][a]) for s in range(states) for a in range(actions))
    array = np.zeros((states, actions, width, 4))
    for s in range(states):
        for a in range(actions):
            for k, (p, nxt, r, t) in enumerate(P[s][a]):
                array[s, a, k] = (p, nxt, r, float(t))
    w.add(f"{key}.table", array)


def main():
    w = FixtureWriter("TesseraReinforcementTests", "environments")
    random2 = lambda obs, rng: int(rng.integers(0, 2))
    random3 = lambda obs, rng: int(rng.integers(0, 3))
    # A PD controller on the pole angle keeps CartPole up until the 500-step limit.
    balance = lambda obs, rng: int(obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0)
    # Pumping energy: push along the velocity (MountainCar) or the first joint's velocity (Acrobot).
    pump_car = lambda obs, rng: 2 if obs[1] >= 0 else 0
    pump_acrobot = lambda obs, rng: 2 if obs[4] + obs[5] >= 0 else 0
    torque = lambda obs, rng: np.array([rng.uniform(-2.5, 2.5)], dtype=np.float32)
    lengths = {}
    for seed in range(3):
        lengths[f"cartpole.{seed}"] = record(w, f"CartPole-v1.{seed}", "CartPole-v1", seed, random2)
    lengths["cartpole.3"] = record(w, "CartPole-v1.3", "CartPole-v1", 3, balance)
    lengths["acrobot.0"] = record(w, "Acrobot-v1.0", "Acrobot-v1", 0, pump_acrobot)
    lengths["acrobot.1"] = record(w, "Acrobot-v1.1", "Acrobot-v1", 1, random3)
    lengths["mountaincar.0"] = record(w, "MountainCar-v0.0", "MountainCar-v0", 0, pump_car)
    lengths["mountaincar.1"] = record(w, "MountainCar-v0.1", "MountainCar-v0", 1, random3)
    lengths["pendulum.0"] = record(w, "Pendulum-v1.0", "Pendulum-v1", 0, torque)
    table(w, "CliffWalking-v1", gym.make("CliffWalking-v1"))
    table(w, "CliffWalking-v1-slippery", gym.make("CliffWalking-v1", is_slippery=True))
    table(w, "FrozenLake-v1", gym.make("FrozenLake-v1", is_slippery=False))
    table(w, "FrozenLake-v1-slippery", gym.make("FrozenLake-v1", is_slippery=True))
    # Toy-text episodes: the time limit (FrozenLake walking into the wall) and the cliff.
    lengths["frozenlake.0"] = record(w, "FrozenLake-v1.0", "FrozenLake-v1", 0, lambda obs, rng: 0, set_state=False,
                                     is_slippery=False)
    # Up, right, down into the cliff (back to the start, −100), then up, along row 2 and down to the goal.
    cliff = iter([0, 1, 2, 0] + [1] * 11 + [2])
    lengths["cliff.0"] = record(w, "CliffWalking-v1.0", "CliffWalking-v1", 0,
                                lambda obs, rng: next(cliff, 2), set_state=False)
    w.write()
    for key, value in lengths.items():
        print(" ", key, "steps, terminated, truncated:", value)


if __name__ == "__main__":
    main()
