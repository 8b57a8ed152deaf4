import Foundation
import TesseraTensor

/// `tessera-bench NAME [--json]`: runs one named benchmark; `tessera-bench --list` names them.
/// Build with `swift build -c release`; every figure is one thread (OpenBLAS is set to one thread).
@main
struct TesseraBench {
    static let benchmarks: [(name: String, summary: String, run: (Bool) -> Void)] = [
        ("gemm", "matmul through the tensor API vs raw cblas_sgemm, n = 64…1024", gemmBenchmark),
        ("elementwise", "add, mul, exp on 1M floats vs memcpy bandwidth", elementwiseBenchmark),
        ("mlp-fwdbwd", "forward + backward of the reference MLP 64-256-256-10, batch 128",
         { modelStepBenchmark("mlp-fwdbwd", json: $0, withOptimizer: false, build: referenceMLP) }),
        ("mlp-step", "forward + backward + Adam of the reference MLP",
         { modelStepBenchmark("mlp-step", json: $0, withOptimizer: true, build: referenceMLP) }),
        ("cnn-fwdbwd", "forward + backward of the reference CNN (1x28x28, conv32, conv64, fc128, fc10), batch 64",
         { modelStepBenchmark("cnn-fwdbwd", json: $0, withOptimizer: false, build: referenceCNN) }),
        ("cnn-step", "forward + backward + Adam of the reference CNN",
         { modelStepBenchmark("cnn-step", json: $0, withOptimizer: true, build: referenceCNN) }),
        ("transformer-step", "forward + backward + Adam of the transformer encoder classifier (T 64, d 128, 4 heads, 2 layers, FFN 512), batch 32", transformerStepBenchmark),
        ("normalization", "forward + backward of the fused layer norm [2048, 128] and softmax [32, 4, 64, 64] vs the same composed from elementwise ops",
         normalizationBenchmark),
        ("gpt-generate", "GPT (4 layers, d 128) greedy generation tokens/s with and without the key/value cache", gptGenerateBenchmark),
        ("cartpole", "CartPole-v1 raw environment steps/s (TimeLimit-wrapped and bare) vs gymnasium's ~131k", { cartPoleBenchmark(json: $0) }),
        ("actor-learner", "IMPALA on CartPole through tessera train --np 2|3 (mpirun, 1 and 2 actor processes): env steps/s, learner updates/s",
         actorLearnerBenchmark),
        ("checkpoint", "save/load MB/s and compression of a trained model vs plain zstd", checkpointBenchmark),
        ("ode", "dopri5 solve and adjoint gradient of an MLP vector field 2-64-2 tanh, batch 256, t 0→1, rtol 1e-3, atol 1e-6 (vs Tests/Benchmarks/ode.py)",
         odeBenchmark),
        ("gcn", "forward + backward + Adam of the 2-layer GCN (hidden 16) on the karate club, phases timed apart (vs shared/bench/gcn.py)",
         gcnKarateBenchmark),
        ("gcn-large", "the same 2-layer GCN step on a 10⁴-node, 10⁵-edge synthetic graph, 64 features (vs Tests/Benchmarks/gcn_large.py)",
         gcnLargeBenchmark),
        ("explain", "one LRP explanation of the digits CNN (EpsilonGammaBox) and ViT (Ali et al. rules), batch 1 and 64, vs forward + backward (vs Tests/Benchmarks/explain.py: zennit, detached PyTorch ViT)",
         explainBenchmark),
        ("simclr", "one SimCLR step: two views of 256 digits, CNN encoder, projection head, NT-Xent, LARS (vs Tests/Benchmarks/simclr.py)",
         simclrBenchmark),
        ("flow", "one Glow step of configs/generative-glow-digits.yaml: 2 levels × 8 steps, hidden 64, batch 64 of 8×8, −log-likelihood, Adam (vs Tests/Benchmarks/glow.py)",
         flowBenchmark),
        ("pixelcnn", "one gated PixelCNN step of configs/generative-pixelcnn-digits.yaml: 4 gated layers, 32 channels, 16 levels, batch 64 of 8×8, Adam (vs Tests/Benchmarks/pixelcnn.py)",
         pixelCNNBenchmark),
        ("ddpm", "one DDPM step of configs/generative-ddpm-digits.yaml (U-Net 32/64 channels, batch 64 of 8×8, ε-MSE, Adam) and one 50-step DDIM sampling of the batch (vs Tests/Benchmarks/ddpm.py)",
         ddpmBenchmark),
        ("allreduce", "gradient averaging vs raw MPI_Allreduce, and step time with/without overlap (run under mpirun)",
         allreduceBenchmark),
    ]

    static func main() {
        BLASKernelSelection.selectFastKernel()
        BLAS.setThreadCount(1)
        let arguments = Array(CommandLine.arguments.dropFirst())
        let json = arguments.contains("--json")
        let names = arguments.filter { !$0.hasPrefix("--") }
        if arguments.contains("--list") || names.isEmpty {
            for benchmark in benchmarks { print("\(benchmark.name)\t\(benchmark.summary)") }
            if names.isEmpty && !arguments.contains("--list") {
                FileHandle.standardError.write(Data("usage: tessera-bench NAME [--json] | --list\n".utf8))
                exit(2)
            }
            return
        }
        for name in names {
            guard let benchmark = benchmarks.first(where: { $0.name == name }) else {
                FileHandle.standardError.write(Data("tessera-bench: unknown benchmark '\(name)'; --list names them\n".utf8))
                exit(2)
            }
            benchmark.run(json)
        }
    }
}
