"""Golden values for TesseraSelfSupervised's losses and monitors, written from the papers' formulas in
PyTorch (float64, stored as float32):

  ntxent.*  SimCLR's NT-Xent (Chen et al. 2020, eq. 1): z1, z2 [4, 6] (the two views' projections),
            temperature [1]; .loss, .grad_z1, .grad_z2 (the mean over the 2N anchors).
  byol.*    BYOL's regression loss (Grill et al. 2020, eq. 2) symmetrised over the two views:
            p1, p2 (online predictions) and t1, t2 (target projections) [5, 4]; .loss,
            .grad_p1, .grad_p2 (the targets are constants).
  dino.*    DINO's loss (Caron et al. 2021, Alg. 1): teacher outputs for 2 global crops
            .teacher0/.teacher1 [3, 8], student outputs for 2 global + 2 local crops
            .student0..3 [3, 8], .center [1, 8], .temperatures [student, teacher], .loss (the mean
            over the pairs of different crops), .grad_student0..3, and .new_center after one update
            with momentum .center_momentum from the teacher outputs.
  clip.*    CLIP's symmetric loss (Radford et al. 2021, Fig. 3): images, texts [5, 4] (the two
            modalities' projections, normalised inside), log_scale [1] (log 1/τ); .loss (the mean
            of the image→text and text→image cross entropies), .grad_images, .grad_texts,
            .grad_log_scale.
  rank.*    .embeddings [20, 6] of rank about 3; .effective_rank (Roy & Vetterli 2007: exp of the entropy
            of the normalised singular values of the centred matrix) and .std (per-dimension standard
            deviation of the l2-normalised rows, population form).
"""
import numpy as np
import torch
import torch.nn.functional as F

from common import FixtureWriter


def ntxent(z1, z2, temperature):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    similarity = z @ z.T / temperature
    similarity = similarity.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(similarity, positives)


def byol(p1, p2, t1, t2):
    def regression(p, t):
        return (2 - 2 * (F.normalize(p, dim=1) * F.normalize(t, dim=1)).sum(dim=1)).mean()
    return regression(p1, t2) + regression(p2, t1)


def dino(students, teachers, center, student_temperature, teacher_temperature):
    targets = [F.softmax((t - center) / teacher_temperature, dim=1) for t in teachers]
    total, pairs = 0, 0
    for i, target in enumerate(targets):
        for j, student in enumerate(students):
            if i == j:
                continue
            total = total + (-target * F.log_softmax(student / student_temperature, dim=1)).sum(dim=1).mean()
            pairs += 1
    return total / pairs


def clip(images, texts, log_scale):
    logits = log_scale.exp() * F.normalize(images, dim=1) @ F.normalize(texts, dim=1).T
    labels = torch.arange(images.shape[0])
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def main():
    out = FixtureWriter("TesseraSelfSupervisedTests", "selfsupervised")
    generator = torch.Generator().manual_seed(14)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    z1, z2 = randn(4, 6).requires_grad_(), randn(4, 6).requires_grad_()
    temperature = 0.3
    loss = ntxent(z1, z2, temperature)
    loss.backward()
    for key, value in [("z1", z1), ("z2", z2), ("temperature", torch.tensor([temperature])), ("loss", loss.reshape(1)),
                       ("grad_z1", z1.grad), ("grad_z2", z2.grad)]:
        out.add(f"ntxent.{key}", value)

    p1, p2 = randn(5, 4).requires_grad_(), randn(5, 4).requires_grad_()
    t1, t2 = randn(5, 4), randn(5, 4)
    loss = byol(p1, p2, t1, t2)
    loss.backward()
    for key, value in [("p1", p1), ("p2", p2), ("t1", t1), ("t2", t2), ("loss", loss.reshape(1)),
                       ("grad_p1", p1.grad), ("grad_p2", p2.grad)]:
        out.add(f"byol.{key}", value)

    teachers = [randn(3, 8), randn(3, 8)]
    students = [randn(3, 8).requires_grad_() for _ in range(4)]
    center = 0.3 * randn(1, 8)
    student_temperature, teacher_temperature, momentum = 0.1, 0.04, 0.9
    loss = dino(students, teachers, center, student_temperature, teacher_temperature)
    loss.backward()
    for index, teacher in enumerate(teachers):
        out.add(f"dino.teacher{index}", teacher)
    for index, student in enumerate(students):
        out.add(f"dino.student{index}", student)
        out.add(f"dino.grad_student{index}", student.grad)
    out.add("dino.center", center)
    out.add("dino.temperatures", torch.tensor([student_temperature, teacher_temperature]))
    out.add("dino.center_momentum", torch.tensor([momentum]))
    out.add("dino.loss", loss.reshape(1))
    batch_mean = torch.cat(teachers).mean(dim=0, keepdim=True)
    out.add("dino.new_center", momentum * center + (1 - momentum) * batch_mean)

    embeddings = randn(20, 3) @ randn(3, 6) + 0.01 * randn(20, 6)
    centred = embeddings - embeddings.mean(dim=0, keepdim=True)
    singular = torch.linalg.svdvals(centred)
    p = singular / singular.sum()
    out.add("rank.embeddings", embeddings)
    out.add("rank.effective_rank", torch.exp(-(p * torch.log(p)).sum()).reshape(1))
    out.add("rank.std", F.normalize(embeddings, dim=1).std(dim=0, unbiased=False))
    images, texts = randn(5, 4).requires_grad_(), randn(5, 4).requires_grad_()
    log_scale = torch.tensor([np.log(1 / 0.2)], dtype=torch.float64, requires_grad=True)
    loss = clip(images, texts, log_scale)
    loss.backward()
    for key, value in [("images", images), ("texts", texts), ("log_scale", log_scale), ("loss", loss.reshape(1)),
                       ("grad_images", images.grad), ("grad_texts", texts.grad), ("grad_log_scale", log_scale.grad)]:
        out.add(f"clip.{key}", value)
    out.write()


if __name__ == "__main__":
    main()
