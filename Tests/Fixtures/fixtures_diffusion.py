"""Golden values for TesseraGenerative's diffusion samplers, from diffusers' DDPMScheduler and
DDIMScheduler (no model weights: the schedulers are pure functions of their inputs).

  schedule.<kind>_<T>.betas [T], .alphas_cumprod [T]   kind linear (1e-4 … 0.02) or cosine
              (squaredcos_cap_v2), T 1000 and 50.
  timesteps.<T>_<n> [n]   set_timesteps(n) of a T-step scheduler (diffusers' default "leading" spacing).
  ddpm.<case>.*   DDPMScheduler(T, schedule, variance_type, clip_sample).step() after set_timesteps(n)
              (n = T is the full chain): .sample [2, 1, 4, 4], .model_output (the predicted noise),
              .noise (the variance noise diffusers draws, recovered from the same torch generator),
              .timestep [1], .previous [1], .prev_sample [2, 1, 4, 4].
  ddim.<case>.*   DDIMScheduler(T, schedule, clip_sample).step(eta, variance_noise) after set_timesteps(n),
              with the same keys and .eta [1].
"""
import torch
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.utils.torch_utils import randn_tensor

from common import FixtureWriter

BETA_SCHEDULES = {"linear": "linear", "cosine": "squaredcos_cap_v2"}


def scheduler_kwargs(timesteps, kind):
    return dict(num_train_timesteps=timesteps, beta_start=1e-4, beta_end=0.02, beta_schedule=BETA_SCHEDULES[kind])


def previous_of(timesteps, index):
    return int(timesteps[index + 1]) if index + 1 < len(timesteps) else -1


def ddpm_cases(out, generator):
    cases = [
        # (name, T, schedule, variance, clip, sampling steps, index of the step in the path)
        ("linear_small_full_mid", 1000, "linear", "fixed_small", True, 1000, 400),
        ("linear_large_full_mid", 1000, "linear", "fixed_large", True, 1000, 400),
        ("linear_small_full_last", 1000, "linear", "fixed_small", True, 1000, 999),
        ("cosine_small_full_first", 1000, "cosine", "fixed_small", False, 1000, 0),
        ("cosine_large_noclip_mid", 1000, "cosine", "fixed_large", False, 1000, 700),
        ("linear_small_respaced", 1000, "linear", "fixed_small", True, 50, 10),
        ("cosine_large_respaced", 1000, "cosine", "fixed_large", False, 20, 5),
    ]
    for name, T, kind, variance, clip, steps, index in cases:
        scheduler = DDPMScheduler(**scheduler_kwargs(T, kind), variance_type=variance, clip_sample=clip)
        scheduler.set_timesteps(steps)
        timestep = int(scheduler.timesteps[index])
        sample = torch.randn(2, 1, 4, 4, generator=generator) * 1.3
        model_output = torch.randn(2, 1, 4, 4, generator=generator)
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        # diffusers draws the variance noise itself with randn_tensor; the same seed recovers it.
        noise = randn_tensor(model_output.shape, generator=torch.Generator().manual_seed(seed), dtype=model_output.dtype)
        prev = scheduler.step(model_output, timestep, sample, generator=torch.Generator().manual_seed(seed)).prev_sample
        if timestep == 0:
            noise = torch.zeros_like(noise)
        prefix = "ddpm." + name
        out.add(prefix + ".sample", sample)
        out.add(prefix + ".model_output", model_output)
        out.add(prefix + ".noise", noise)
        out.add(prefix + ".timestep", [timestep])
        out.add(prefix + ".previous", [previous_of(scheduler.timesteps, index)])
        out.add(prefix + ".prev_sample", prev)


def ddim_cases(out, generator):
    cases = [
        # (name, T, schedule, clip, eta, sampling steps, index)
        ("linear_eta0_50", 1000, "linear", True, 0.0, 50, 20),
        ("linear_eta1_50", 1000, "linear", True, 1.0, 50, 20),
        ("cosine_eta05_10", 1000, "cosine", False, 0.5, 10, 3),
        ("linear_eta0_last", 1000, "linear", False, 0.0, 10, 9),
        ("cosine_eta1_full", 1000, "cosine", False, 1.0, 1000, 500),
        ("linear_eta0_first", 1000, "linear", True, 0.0, 100, 0),
    ]
    for name, T, kind, clip, eta, steps, index in cases:
        scheduler = DDIMScheduler(**scheduler_kwargs(T, kind), clip_sample=clip)
        scheduler.set_timesteps(steps)
        timestep = int(scheduler.timesteps[index])
        sample = torch.randn(2, 1, 4, 4, generator=generator) * 1.3
        model_output = torch.randn(2, 1, 4, 4, generator=generator)
        noise = torch.randn(2, 1, 4, 4, generator=generator)
        prev = scheduler.step(model_output, timestep, sample, eta=eta, variance_noise=noise).prev_sample
        prefix = "ddim." + name
        out.add(prefix + ".sample", sample)
        out.add(prefix + ".model_output", model_output)
        out.add(prefix + ".noise", noise)
        out.add(prefix + ".eta", [eta])
        out.add(prefix + ".timestep", [timestep])
        out.add(prefix + ".previous", [previous_of(scheduler.timesteps, index)])
        out.add(prefix + ".prev_sample", prev)


def main():
    out = FixtureWriter("TesseraGenerativeTests", "diffusion")
    generator = torch.Generator().manual_seed(16)
    for T in (1000, 50):
        for kind in BETA_SCHEDULES:
            scheduler = DDPMScheduler(**scheduler_kwargs(T, kind))
            out.add(f"schedule.{kind}_{T}.betas", scheduler.betas)
            out.add(f"schedule.{kind}_{T}.alphas_cumprod", scheduler.alphas_cumprod)
    for T, n in ((1000, 1000), (1000, 50), (1000, 10), (1000, 7), (50, 50), (50, 20), (1000, 3)):
        scheduler = DDIMScheduler(num_train_timesteps=T)
        scheduler.set_timesteps(n)
        out.add(f"timesteps.{T}_{n}", scheduler.timesteps)
    ddpm_cases(out, generator)
    ddim_cases(out, generator)
    out.write()


if __name__ == "__main__":
    main()
