import Foundation
import TesseraCheckpoint
import TesseraData
import TesseraNN
import TesseraTensor

/// `checkpoint`: save and load throughput (MB of raw tensor bytes per second) and compression of a
/// trained model's checkpoint — parameters and Adam's two moment slots of a 64→1024→1024→10 MLP
/// after 300 steps on the digits (13 MB raw) — against plain zstd (level 3) of the same bytes and
/// against the uncompressed size.
func checkpointBenchmark(json: Bool) {
    var generator = RandomGenerator(seed: 0)
    let model = MLP(sizes: [64, 1024, 1024, 10], activation: .relu, generator: &generator)
    let optimizer = Adam(parameters: model.namedParameters(), learningRate: 1e-3)
    let digits = (try? Digits.load(layout: .flat)) ?? TensorDataset(inputs: .zeros([128, 64]), labels: .zeros([128]))
    for step in 0..<300 {
        let batch = digits.batch(at: (0..<128).map { (step * 128 + $0) % digits.count })
        optimizer.zeroGradients()
        crossEntropy(logits: model(batch.inputs), targets: batch.labels).backward()
        optimizer.step()
    }
    var entries: [CheckpointEntry] = []
    for (name, tensor) in (model.stateDictionary().merging(optimizer.stateDictionary()) { a, _ in a }).sorted(by: { $0.key < $1.key }) {
        entries.append(CheckpointEntry(name: name, dtype: .float32, shape: tensor.shape,
                                       bytes: [UInt8](UnsafeRawBufferPointer(start: tensor.storage.pointer, count: tensor.count * 4))))
    }
    let checkpoint = Checkpoint(metadata: ["kind": "benchmark"], entries: entries)
    let rawBytes = entries.reduce(0) { $0 + $1.bytes.count }
    let megabytes = Double(rawBytes) / 1e6

    var encoded: [UInt8] = []
    let encodeTiming = Timing.measure(warmup: 2, minimumIterations: 10, minimumSeconds: 2) {
        encoded = (try? checkpoint.encoded()) ?? []
    }
    let decodeTiming = Timing.measure(warmup: 2, minimumIterations: 10, minimumSeconds: 2) {
        _ = try? Checkpoint(decoding: encoded, source: "benchmark")
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-bench-\(getpid()).tsr").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let saveTiming = Timing.measure(warmup: 1, minimumIterations: 10, minimumSeconds: 2) { try? checkpoint.write(to: path) }
    let fastSaveTiming = Timing.measure(warmup: 1, minimumIterations: 10, minimumSeconds: 2) {
        try? checkpoint.write(to: path, compressionLevel: 1)
    }
    let fastSize = (try? checkpoint.encoded(compressionLevel: 1).count) ?? 0
    let loadTiming = Timing.measure(warmup: 1, minimumIterations: 10, minimumSeconds: 2) { _ = try? Checkpoint.read(from: path) }

    // Plain zstd of the same bytes, concatenated, at the same level and without shuffling.
    let concatenated = entries.flatMap(\.bytes)
    var plain: [UInt8] = []
    let plainTiming = Timing.measure(warmup: 1, minimumIterations: 10, minimumSeconds: 2) {
        plain = (try? Zstd.compress(concatenated, level: Zstd.defaultLevel)) ?? []
    }
    var record = BenchmarkRecord("checkpoint", [("raw_bytes", rawBytes), ("tensors", entries.count)])
    record.fields += [
        ("median_ms", rounded(saveTiming.medianMilliseconds)),
        ("save_mb_per_s", rounded(megabytes / saveTiming.medianMilliseconds * 1e3, digits: 1)),
        ("level1_save_mb_per_s", rounded(megabytes / fastSaveTiming.medianMilliseconds * 1e3, digits: 1)),
        ("level1_compression_ratio", rounded(Double(rawBytes) / Double(max(fastSize, 1)), digits: 3)),
        ("load_mb_per_s", rounded(megabytes / loadTiming.medianMilliseconds * 1e3, digits: 1)),
        ("encode_mb_per_s", rounded(megabytes / encodeTiming.medianMilliseconds * 1e3, digits: 1)),
        ("decode_mb_per_s", rounded(megabytes / decodeTiming.medianMilliseconds * 1e3, digits: 1)),
        ("file_bytes", encoded.count),
        ("compression_ratio", rounded(Double(rawBytes) / Double(max(encoded.count, 1)), digits: 3)),
        ("plain_zstd_bytes", plain.count),
        ("plain_zstd_ratio", rounded(Double(rawBytes) / Double(max(plain.count, 1)), digits: 3)),
        ("plain_zstd_mb_per_s", rounded(megabytes / plainTiming.medianMilliseconds * 1e3, digits: 1)),
    ]
    record.emit(json: json)
}
