import Foundation
import TesseraData
import TesseraODE
import TesseraPicture
import TesseraTensor

/// The pictures of finished ODE runs: how the learned flow moves the points (Dupont et al.'s
/// figures 1 and 4) and, for FFJORD, the learned density.
enum ODEFlowPlots {
    /// Times at which trajectories are drawn, from 0 to `end`.
    static func times(to end: Float, count: Int = 21) -> [Float] {
        (0..<count).map { end * Float($0) / Float(count - 1) }
    }

    /// 1-D inputs: the first state coordinate against time for inputs spread over [−1, 1]. A plain
    /// NODE's curves never cross (it cannot map x to −x); an ANODE's cross in the extra dimensions.
    static func trajectories(_ network: ODENetwork, title: String, to url: URL) throws {
        let starts = (0..<12).map { -1 + 2 * Float($0) / 11 }
        let times = times(to: network.block.config.endTime)
        let states = try network.trajectories(Tensor(shape: [starts.count, 1], scalars: starts), times: times)
        let width = states.shape[2], values = states.scalars
        let series = starts.indices.map { row in
            LineChart.Series(name: String(format: "x0 = %.2f", starts[row]), points: times.indices.map { step in
                (x: Double(times[step]), y: Double(values[(step * starts.count + row) * width]))
            })
        }
        var chart = LineChart(panels: [.init(title: "\(title): x(t) for 12 starting points (target x(T) = -x0)", series: series)],
                              xLabel: "t")
        chart.panelHeight = 500
        try chart.render().writePNG(to: url)
    }

    /// 2-D inputs: the trail of up to 120 test points through time (first two state dimensions),
    /// coloured by class; the last dot of each trail is the final state the head reads.
    static func planarFlow(_ network: ODENetwork, points: TensorDataset, title: String, to url: URL) throws {
        let count = min(points.count, 120)
        let inputs = points.inputs.slice(alongAxis: 0, start: 0, end: count)
        let labels = points.labels.scalars.prefix(count).map { Int($0) }
        let times = times(to: network.block.config.endTime, count: 11)
        let states = try network.trajectories(inputs, times: times)
        let width = states.shape[2], values = states.scalars
        var dots: [ScatterPlot.Point] = []
        for step in times.indices {
            for row in 0..<count {
                let offset = (step * count + row) * width
                dots.append(.init(x: Double(values[offset]), y: Double(values[offset + 1]), classIndex: labels[row]))
            }
        }
        var plot = ScatterPlot(points: dots, title: "\(title): test points flowing from t = 0 to \(times.last!)",
                               classNames: ["class 0", "class 1"])
        plot.pointRadius = 2
        try plot.render().writePNG(to: url)
    }

    /// The model density on a 64 × 64 grid around the data, with 300 samples drawn on top.
    /// Returns the density's mass on the grid (≈ 1 when the grid covers the density).
    @discardableResult
    static func density(_ flow: FFJORD, data: Tensor, to url: URL) throws -> Double {
        let (cells, margin) = (64, 0.75)
        let values = data.scalars
        let xs = stride(from: 0, to: values.count, by: 2).map { Double(values[$0]) }
        let ys = stride(from: 1, to: values.count, by: 2).map { Double(values[$0]) }
        let x = (xs.min()! - margin)...(xs.max()! + margin), y = (ys.min()! - margin)...(ys.max()! + margin)
        let (dx, dy) = ((x.upperBound - x.lowerBound) / Double(cells), (y.upperBound - y.lowerBound) / Double(cells))
        // Row 0 is the top of the picture.
        var grid: [Float] = []
        for row in 0..<cells {
            for column in 0..<cells {
                grid += [Float(x.lowerBound + (Double(column) + 0.5) * dx), Float(y.upperBound - (Double(row) + 0.5) * dy)]
            }
        }
        let density = try withoutGradients { try flow.logLikelihood(Tensor(shape: [cells * cells, 2], scalars: grid)).exp().scalars }
        let samples = try withoutGradients { try flow.sample(count: 300).scalars }
        var image = DensityImage(values: density, width: cells, height: cells)
        image.extent = (x: x, y: y)
        image.scale = 8
        image.overlay = stride(from: 0, to: samples.count, by: 2).map { (x: Double(samples[$0]), y: Double(samples[$0 + 1])) }
        try image.render().writePNG(to: url)
        return density.reduce(0) { $0 + Double($1) } * dx * dy
    }
}
