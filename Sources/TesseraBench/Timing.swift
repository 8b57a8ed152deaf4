import Foundation
import TesseraNN
import TesseraTensor

/// Times `body` like the peer scripts in `shared/bench/common.py`: a warm-up, then at least
/// `minimumIterations` runs and at least `minimumSeconds` of runs; reports the median and the
/// 10th/90th percentiles in milliseconds.
struct Timing {
    let medianMilliseconds: Double
    let p10Milliseconds: Double
    let p90Milliseconds: Double
    let iterations: Int

    static func measure(warmup: Int = 10, minimumIterations: Int = 30, minimumSeconds: Double = 2,
                        maximumIterations: Int = 100_000, _ body: () -> Void) -> Timing {
        for _ in 0..<warmup { body() }
        var samples: [Double] = []
        let start = now()
        while samples.count < minimumIterations || (now() - start < minimumSeconds && samples.count < maximumIterations) {
            let t0 = now()
            body()
            samples.append(now() - t0)
        }
        samples.sort()
        func quantile(_ q: Double) -> Double { samples[Swift.min(samples.count - 1, Int(q * Double(samples.count)))] * 1e3 }
        let middle = samples.count / 2
        let median = samples.count % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2
        return Timing(medianMilliseconds: median * 1e3, p10Milliseconds: quantile(0.1), p90Milliseconds: quantile(0.9),
                      iterations: samples.count)
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}

/// One line of benchmark output: printed as JSON with `--json`, else as aligned text.
struct BenchmarkRecord {
    var fields: [(String, Any)]

    init(_ benchmark: String, _ fields: [(String, Any)]) {
        self.fields = [("benchmark", benchmark)] + fields
    }

    mutating func add(_ timing: Timing, prefix: String = "") {
        fields += [("\(prefix)median_ms", rounded(timing.medianMilliseconds)), ("\(prefix)p10_ms", rounded(timing.p10Milliseconds)),
                   ("\(prefix)p90_ms", rounded(timing.p90Milliseconds)), ("\(prefix)iterations", timing.iterations)]
    }

    func emit(json: Bool) {
        if json {
            let body = fields.map { key, value -> String in
                let encoded: String
                switch value {
                case let text as String: encoded = "\"\(text)\""
                case let list as [Int]: encoded = "[\(list.map(String.init).joined(separator: ","))]"
                default: encoded = "\(value)"
                }
                return "\"\(key)\":\(encoded)"
            }
            print("{\(body.joined(separator: ","))}")
        } else {
            print(fields.map { "\($0.0)=\($0.1)" }.joined(separator: "  "))
        }
        fflush(stdout)
    }
}

func rounded(_ value: Double, digits: Int = 4) -> Double {
    let scale = pow(10, Double(digits))
    return (value * scale).rounded() / scale
}

/// One timed training step as every step benchmark runs it: zero the gradients, compute the loss,
/// backpropagate, step the optimizer (unless `step` is false, for forward + backward alone);
/// returns the loss.
func trainingStep(_ optimizer: some Optimizer, step: Bool = true, loss: () -> Tensor) -> Float {
    optimizer.zeroGradients()
    let value = loss()
    value.backward()
    if step { optimizer.step() }
    return value.item
}
