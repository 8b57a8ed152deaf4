"""Golden values for TesseraODE: torchdiffeq's dopri5 (final states and NFE at given tolerances),
scipy's solve_ivp RK45 and analytic solutions, and torchdiffeq's odeint_adjoint gradients.

Everything is computed in float64 and stored as float32. Problems (keys start with the name):

  linear.*   u' = A u, A = [[-0.5, 2], [-2, -0.5]], u0 = [1, 0], times [0, 1, 2.5, 5]
  vanderpol.* u' = [u1, mu (1 - u0^2) u1 - u0], mu = 1, u0 = [2, 0], times [0, 5]
  decay.*    u' = -k u, k = [0.5, 1, 2], u0 = [1, 2, 3], times [0, 2]
  mlp.*      u' = W2 tanh(W1 [u, t] + b1) + b2 (3 -> 16 -> 2, weights under mlp.layers.*),
             u0 [4, 2], times [0, 0.5, 1]; loss = sum_i sum(c_i * u(t_i)) with c [3, 4, 2]

Per problem: .initial, .times, .tolerances [rtol, atol], .torchdiffeq (states [T, ...]),
.torchdiffeq_nfe [1], .scipy (states), .scipy_nfe, .exact (analytic or a 1e-12 RK45 solve).
mlp also has .loss_weights, .grad_initial and .grad.<parameter name> (odeint_adjoint, rtol 1e-9).

  mlp32.*    the mlp problem in float32 at rtol 1e-4, atol 1e-6, times [0, 1]: .nfe [forward, backward]
             of odeint_adjoint with loss sum(u(1)^2) (float32 on both sides, so the counts should agree)
"""
import numpy as np
import scipy.integrate
import scipy.linalg
import torch
import torchdiffeq

from common import FixtureWriter

RTOL, ATOL = 1e-5, 1e-7


class Counted(torch.nn.Module):
    def __init__(self, function):
        super().__init__()
        self.function = function
        self.nfe = 0

    def forward(self, t, u):
        self.nfe += 1
        return self.function(t, u)


def torchdiffeq_solve(function, initial, times, rtol=RTOL, atol=ATOL):
    counted = Counted(function)
    with torch.no_grad():
        states = torchdiffeq.odeint(counted, torch.tensor(initial), torch.tensor(times), rtol=rtol, atol=atol,
                                    method="dopri5")
    return states, counted.nfe


def scipy_solve(numpy_function, initial, times, rtol=RTOL, atol=ATOL):
    shape = np.shape(initial)
    result = scipy.integrate.solve_ivp(lambda t, y: numpy_function(t, y.reshape(shape)).reshape(-1),
                                       (times[0], times[-1]), np.reshape(initial, -1), method="RK45",
                                       t_eval=times, rtol=rtol, atol=atol)
    assert result.success, result.message
    return result.y.T.reshape((len(times),) + shape), result.nfev


def add_problem(writer, name, torch_function, numpy_function, initial, times, exact):
    writer.add(name + ".initial", initial)
    writer.add(name + ".times", times)
    writer.add(name + ".tolerances", [RTOL, ATOL])
    states, nfe = torchdiffeq_solve(torch_function, initial, times)
    writer.add(name + ".torchdiffeq", states)
    writer.add(name + ".torchdiffeq_nfe", [nfe])
    states, nfe = scipy_solve(numpy_function, initial, times)
    writer.add(name + ".scipy", states)
    writer.add(name + ".scipy_nfe", [nfe])
    writer.add(name + ".exact", exact)


def main():
    torch.set_default_dtype(torch.float64)
    writer = FixtureWriter("TesseraODETests", "ode")

    # Linear system: exact by the matrix exponential.
    a = np.array([[-0.5, 2.0], [-2.0, -0.5]])
    initial = np.array([1.0, 0.0])
    times = np.array([0.0, 1.0, 2.5, 5.0])
    exact = np.stack([scipy.linalg.expm(a * t) @ initial for t in times])
    a_torch = torch.tensor(a)
    add_problem(writer, "linear", lambda t, u: a_torch @ u, lambda t, u: a @ u, initial, times, exact)

    # Van der Pol (mu = 1, not stiff): the reference is RK45 at rtol 1e-12.
    def vdp(t, u):
        return np.array([u[1], (1 - u[0] ** 2) * u[1] - u[0]])

    def vdp_torch(t, u):
        return torch.stack([u[1], (1 - u[0] ** 2) * u[1] - u[0]])

    initial = np.array([2.0, 0.0])
    times = np.array([0.0, 5.0])
    exact, _ = scipy_solve(vdp, initial, times, rtol=1e-12, atol=1e-12)
    add_problem(writer, "vanderpol", vdp_torch, vdp, initial, times, exact)

    # Exponential decay.
    k = np.array([0.5, 1.0, 2.0])
    initial = np.array([1.0, 2.0, 3.0])
    times = np.array([0.0, 2.0])
    exact = np.stack([initial * np.exp(-k * t) for t in times])
    k_torch = torch.tensor(k)
    add_problem(writer, "decay", lambda t, u: -k_torch * u, lambda t, u: -k * u, initial, times, exact)

    # A small tanh MLP vector field with the time as an extra input.
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    with torch.no_grad():
        mlp[2].weight.mul_(2.0)  # a livelier field than the default initialisation
    names = {"0.weight": "layers.0.weight", "0.bias": "layers.0.bias", "2.weight": "layers.1.weight",
             "2.bias": "layers.1.bias"}
    for key, value in mlp.state_dict().items():
        writer.add("mlp." + names[key], value)

    class Field(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.mlp = mlp

        def forward(self, t, u):
            column = t.expand(u.shape[0], 1)
            return self.mlp(torch.cat([u, column], dim=1))

    field = Field()

    def mlp_numpy(t, u):
        with torch.no_grad():
            return field(torch.tensor(t), torch.tensor(u)).numpy()

    initial = torch.randn(4, 2).numpy()
    times = np.array([0.0, 0.5, 1.0])
    exact, _ = scipy_solve(mlp_numpy, initial, times, rtol=1e-12, atol=1e-12)
    add_problem(writer, "mlp", field, mlp_numpy, initial, times, exact)

    loss_weights = torch.randn(3, 4, 2)
    writer.add("mlp.loss_weights", loss_weights)
    u0 = torch.tensor(initial).requires_grad_(True)
    states = torchdiffeq.odeint_adjoint(field, u0, torch.tensor(times), rtol=1e-9, atol=1e-11, method="dopri5")
    loss = (states * loss_weights).sum()
    parameters = list(mlp.parameters())
    gradients = torch.autograd.grad(loss, [u0] + parameters)
    writer.add("mlp.loss", loss)
    writer.add("mlp.grad_initial", gradients[0])
    for (key, _), gradient in zip(mlp.state_dict().items(), gradients[1:]):
        writer.add("mlp.grad." + names[key], gradient)

    torch.set_default_dtype(torch.float32)
    field32 = Counted(Field().float())
    u0 = torch.tensor(initial, dtype=torch.float32)
    final = torchdiffeq.odeint_adjoint(field32, u0, torch.tensor([0.0, 1.0]), rtol=1e-4, atol=1e-6, method="dopri5",
                                       adjoint_params=tuple(field32.parameters()))[-1]
    forward = field32.nfe
    (final ** 2).sum().backward()
    writer.add("mlp32.nfe", [forward, field32.nfe - forward])
    writer.write()


if __name__ == "__main__":
    main()
