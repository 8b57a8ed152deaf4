import TesseraNN
import TesseraTensor

/// DINO (Caron et al., "Emerging Properties in Self-Supervised Vision Transformers", ICCV 2021):
/// self-distillation with no labels. A student `g_θs` (backbone + ``DINOHead``) is trained to
/// match the output distribution of a teacher `g_θt` of the same architecture across views; the
/// teacher is an exponential moving average of the student, `θt ← λθt + (1 − λ)θs`, with λ rising
/// from 0.996 to 1 on a cosine (Sect. 3.1, the schedule BYOL uses).
///
/// Multi-crop (Sect. 3.1): the student sees every crop, two global and several small local ones;
/// the teacher sees only the global crops, so the student learns "local-to-global"
/// correspondences. The loss (``DINOLoss``) is the cross entropy between the teacher's and the
/// student's distributions over every pair of crops from different views. The teacher's outputs
/// are *centred* (an EMA of their batch mean is subtracted) and *sharpened* (a low teacher
/// temperature, warmed up from 0.04); centering alone collapses every output to the uniform
/// distribution, sharpening alone to one dimension (Sect. 5.3, Fig. 7), which
/// ``Configuration/centering`` and ``Configuration/sharpening`` switch off to show.
///
/// A trainer's step: ``loss(globalCrops:localCrops:step:)``, backward, (average gradients),
/// `optimizer.step()` over ``studentParameters()``, ``updateTeacher(step:totalSteps:)``, then
/// ``updateCenter(teacherSum:count:)`` with ``Output/teacherSum`` summed over processes. A
/// checkpoint holds `stateDictionary()` (student and teacher weights) and ``center`` (restored
/// with ``restoreCenter(_:)``); the temperature and momentum schedules need only the step.
public final class DINO: Module {
    /// The fixed settings of a DINO model.
    public struct Configuration: Sendable {
        /// The size of the backbone's output (the head's input).
        public var representationSize: Int
        /// The hidden width of the head's MLP (2048 in the paper).
        public var hiddenSize: Int
        /// The l2-normalised bottleneck between the MLP and the last layer (256).
        public var bottleneckSize: Int
        /// K, the number of output dimensions (65536 for ImageNet; it need not be large).
        public var outputDimensions: Int
        /// τ_s (0.1).
        public var studentTemperature: Float
        /// τ_t after the warm-up (0.04, up to 0.07 in the paper's Table 9 ablations).
        public var teacherTemperature: Float
        /// τ_t at step 0 of the warm-up (0.04).
        public var warmupTeacherTemperature: Float
        /// Steps of the linear teacher-temperature warm-up (30 epochs in the paper).
        public var teacherTemperatureWarmupSteps: Int
        /// m, the centre's EMA decay (0.9).
        public var centerMomentum: Float
        /// λ at step 0 of the teacher's cosine schedule (0.996).
        public var baseTeacherMomentum: Float
        /// Whether the teacher's outputs are centred; `false` collapses to one dimension.
        public var centering: Bool
        /// Whether the teacher is sharpened by its lower temperature; `false` gives the teacher
        /// the student's temperature, and outputs collapse to the uniform distribution.
        public var sharpening: Bool

        public init(representationSize: Int, hiddenSize: Int = 2048, bottleneckSize: Int = 256, outputDimensions: Int = 65536,
                    studentTemperature: Float = 0.1, teacherTemperature: Float = 0.04, warmupTeacherTemperature: Float = 0.04,
                    teacherTemperatureWarmupSteps: Int = 0, centerMomentum: Float = 0.9, baseTeacherMomentum: Float = 0.996,
                    centering: Bool = true, sharpening: Bool = true) {
            self.representationSize = representationSize
            self.hiddenSize = hiddenSize
            self.bottleneckSize = bottleneckSize
            self.outputDimensions = outputDimensions
            self.studentTemperature = studentTemperature
            self.teacherTemperature = teacherTemperature
            self.warmupTeacherTemperature = warmupTeacherTemperature
            self.teacherTemperatureWarmupSteps = teacherTemperatureWarmupSteps
            self.centerMomentum = centerMomentum
            self.baseTeacherMomentum = baseTeacherMomentum
            self.centering = centering
            self.sharpening = sharpening
        }
    }

    /// What one loss evaluation computed, for a trainer to log and to update the centre with.
    public struct Output {
        /// The mean cross entropy over the pairs of different crops.
        public let loss: Tensor
        /// The student's outputs for each crop (global first), `[N, K]` each.
        public let studentOutputs: [Tensor]
        /// The teacher's raw outputs (before centering) for each global crop, `[N, K]` each.
        public let teacherOutputs: [Tensor]
        /// The teacher's centred, sharpened distributions, as the loss used them.
        public let teacherProbabilities: [Tensor]
        /// τ_t at this step.
        public let teacherTemperature: Float
        /// τ_s, for the student's distributions in ``monitors``.
        public let studentTemperature: Float
        /// The student backbone's representations of the global crops, `[2N, representationSize]`.
        public let representations: Tensor

        /// The teacher outputs summed over the rows of every global crop (`[1, K]`), for the centre.
        public var teacherSum: Tensor {
            withoutGradients { Tensor.concatenate(teacherOutputs, alongAxis: 0).sum(alongAxes: [0], keepDims: true) }
        }

        /// The rows that ``teacherSum`` adds up (on this process).
        public var teacherRowCount: Int { teacherOutputs.reduce(0) { $0 + $1.shape[0] } }

        /// Deviation and effective rank of the representations; the teacher's entropy; and the KL
        /// divergence from the teacher's distribution of each global crop to the student's of the
        /// same crop (0 in both collapses, where student and teacher agree on everything).
        public var monitors: CollapseStatistics {
            let teacher = Tensor.concatenate(teacherProbabilities, alongAxis: 0)
            let student = withoutGradients {
                (Tensor.concatenate(Array(studentOutputs.prefix(teacherOutputs.count)), alongAxis: 0).detached() / studentTemperature)
                    .softmax(alongAxis: 1)
            }
            return CollapseStatistics(embeddings: representations,
                                      teacherEntropy: CollapseMonitor.entropy(ofProbabilities: teacher),
                                      teacherStudentDivergence: CollapseMonitor.klDivergence(teacher, student))
        }
    }

    public let configuration: Configuration
    public let studentBackbone: any Layer
    public let studentHead: DINOHead
    /// Built like the student and starting from its weights; frozen, moved by ``updateTeacher(step:totalSteps:)``.
    public let teacherBackbone: any Layer
    public let teacherHead: DINOHead
    /// Loss, centre and the centering switch.
    public private(set) var criterion: DINOLoss

    /// The running centre `c`, `[1, K]`: part of a checkpoint.
    public var center: Tensor { criterion.center }

    /// - Parameters:
    ///   - makeBackbone: builds the backbone; called twice, for the student and for the teacher,
    ///     which then takes a copy of the student's weights (a `Layer` cannot be deep-copied in general).
    ///   - configuration: the head's sizes, both temperatures and their warm-up, the centre and
    ///     teacher momenta, and the centering and sharpening switches.
    ///   - generator: draws the heads' initial weights (the backbones draw from the factory's own).
    /// - Throws: for a non-positive temperature, a centre momentum outside [0, 1), a teacher
    ///   momentum outside [0, 1], or backbones that do not match.
    public init(makeBackbone: () -> any Layer, configuration: Configuration, generator: inout RandomGenerator) throws {
        guard configuration.teacherTemperature > 0, configuration.warmupTeacherTemperature > 0 else {
            throw SelfSupervisedError("DINO: teacherTemperature and warmupTeacherTemperature must be positive, got \(configuration.teacherTemperature) and \(configuration.warmupTeacherTemperature)")
        }
        guard (0...1).contains(configuration.baseTeacherMomentum) else {
            throw SelfSupervisedError("DINO: baseTeacherMomentum must be in [0, 1], got \(configuration.baseTeacherMomentum)")
        }
        self.configuration = configuration
        criterion = try DINOLoss(outputDimensions: configuration.outputDimensions,
                                 studentTemperature: configuration.studentTemperature, centerMomentum: configuration.centerMomentum)
        criterion.centering = configuration.centering
        studentBackbone = makeBackbone()
        studentHead = DINOHead(configuration: configuration, generator: &generator)
        teacherBackbone = makeBackbone()
        teacherHead = DINOHead(configuration: configuration, generator: &generator)
        do {
            try teacherBackbone.loadStateDictionary(studentBackbone.stateDictionary())
            try teacherHead.loadStateDictionary(studentHead.stateDictionary())
        } catch {
            throw SelfSupervisedError("DINO: the teacher backbone makeBackbone built does not match the student's: \(error)")
        }
        teacherBackbone.freeze()
        teacherHead.freeze()
    }

    /// What the optimizer updates: the student's backbone and head.
    public func studentParameters() -> [(name: String, parameter: Tensor)] {
        namedParameters().filter { $0.name.hasPrefix("student") }
    }

    /// The student backbone's representation: what downstream tasks use. (The paper evaluates
    /// the teacher, which is slightly better late in training; ``teacherBackbone`` is there too.)
    public func representation(_ input: Tensor) -> Tensor {
        studentBackbone(input)
    }

    /// τ_t at `step`: the warm-up from ``Configuration/warmupTeacherTemperature``, or τ_s when
    /// sharpening is off.
    public func teacherTemperature(step: Int) -> Float {
        guard configuration.sharpening else { return configuration.studentTemperature }
        return DINOLoss.teacherTemperature(epoch: step, warmupEpochs: configuration.teacherTemperatureWarmupSteps,
                                           start: configuration.warmupTeacherTemperature, end: configuration.teacherTemperature)
    }

    /// The loss of one multi-crop batch: `globalCrops` (at least two, `[N, …]` each) go through
    /// student and teacher, `localCrops` through the student only. Crops are batched into one
    /// forward pass per network, as the paper's code does for crops of one resolution.
    public func loss(globalCrops: [Tensor], localCrops: [Tensor] = [], step: Int) -> Output {
        precondition(globalCrops.count >= 2, "DINO: needs at least two global crops, got \(globalCrops.count)")
        let crops = globalCrops + localCrops
        let rows = crops.map { $0.shape[0] }
        let studentRepresentations = studentBackbone(Tensor.concatenate(crops, alongAxis: 0))
        let studentOutputs = studentHead(studentRepresentations).split(sizes: rows, alongAxis: 0)
        let teacherOutputs = withoutGradients {
            teacherHead(teacherBackbone(Tensor.concatenate(globalCrops, alongAxis: 0)))
                .split(sizes: Array(rows.prefix(globalCrops.count)), alongAxis: 0)
        }
        let temperature = teacherTemperature(step: step)
        let loss = criterion(student: studentOutputs, teacher: teacherOutputs, teacherTemperature: temperature)
        let globalRows = rows.prefix(globalCrops.count).reduce(0, +)
        return Output(loss: loss, studentOutputs: studentOutputs, teacherOutputs: teacherOutputs,
                      teacherProbabilities: criterion.teacherProbabilities(teacherOutputs, temperature: temperature),
                      teacherTemperature: temperature, studentTemperature: configuration.studentTemperature,
                      representations: withoutGradients { studentRepresentations.slice(alongAxis: 0, start: 0, end: globalRows).detached() })
    }

    /// Moves the teacher toward the student with λ at `step` of `totalSteps`; returns λ.
    @discardableResult
    public func updateTeacher(step: Int, totalSteps: Int) throws -> Float {
        let momentum = BYOLLoss.targetDecay(step: step, totalSteps: totalSteps, base: configuration.baseTeacherMomentum)
        try updateExponentialMovingAverage(target: teacherBackbone, online: studentBackbone, decay: momentum)
        try updateExponentialMovingAverage(target: teacherHead, online: studentHead, decay: momentum)
        return momentum
    }

    /// `c ← m·c + (1 − m)·teacherSum/count`; with several processes, `teacherSum` and `count` are
    /// summed over all of them first (the paper all-reduces the batch centre).
    public func updateCenter(teacherSum: Tensor, count: Int) {
        criterion.updateCenter(teacherSum: teacherSum, count: count)
    }

    /// Puts back a centre saved from ``center`` (resuming a run).
    public func restoreCenter(_ center: Tensor) throws {
        try criterion.restoreCenter(center)
    }

    /// One training step on one process: loss, backward, `optimizer.step()` (an optimizer over
    /// ``studentParameters()``), teacher update, centre update with this step's teacher outputs.
    @discardableResult
    public func step(globalCrops: [Tensor], localCrops: [Tensor] = [], optimizer: any Optimizer,
                     step: Int, totalSteps: Int) throws -> Output {
        let output = loss(globalCrops: globalCrops, localCrops: localCrops, step: step)
        optimizer.zeroGradients()
        output.loss.backward()
        optimizer.step()
        try updateTeacher(step: step, totalSteps: totalSteps)
        updateCenter(teacherSum: output.teacherSum, count: output.teacherRowCount)
        return output
    }
}

/// DINO's projection head (Sect. 3.1 and Appendix): a 3-layer MLP with GELU, an l2-normalised
/// bottleneck, then a weight-normalised linear layer to K dimensions with no bias.
///
/// Weight normalisation (Salimans & Kingma 2016) writes each output row as `g·v/‖v‖`; the paper's
/// code fixes g = 1 (its `norm_last_layer`, which it reports stabilises training), so the last
/// layer here is `v/‖v‖` row by row and only the direction `v` is learned. With a unit-length
/// bottleneck the outputs are cosines in [−1, 1].
public final class DINOHead: Layer {
    public let mlp: MLP
    /// `v`, `[K, bottleneckSize]`; each row is normalised in the forward pass.
    public let lastLayerDirection: Tensor

    public init(configuration: DINO.Configuration, generator: inout RandomGenerator) {
        mlp = MLP(sizes: [configuration.representationSize, configuration.hiddenSize, configuration.hiddenSize,
                          configuration.bottleneckSize], activation: .gelu, generator: &generator)
        lastLayerDirection = Linear(configuration.bottleneckSize, configuration.outputDimensions, bias: false,
                                    generator: &generator).weight
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        l2Normalized(mlp(input)).matmul(transposed: l2Normalized(lastLayerDirection))
    }
}
