/// One way to split a model over devices: tensor x pipeline x data parallelism.
///
/// World rank `r = t + p * tp + d * tp * pp` (tensor fastest), so a tensor-parallel group
/// is `tp` consecutive ranks and sits on one node whenever `tp` divides the node size.
public struct ParallelConfiguration: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Tensor-parallel size: ranks that split every layer's heads and MLP columns.
    public var tensor: Int
    /// Pipeline-parallel size: stages of contiguous layers.
    public var pipeline: Int
    /// Data-parallel size: replicas of the (tensor x pipeline) model.
    public var data: Int

    public init(tensor: Int, pipeline: Int, data: Int) {
        precondition(tensor >= 1 && pipeline >= 1 && data >= 1, "parallel sizes must be at least 1")
        self.tensor = tensor
        self.pipeline = pipeline
        self.data = data
    }

    /// Devices used: `tensor * pipeline * data`.
    public var deviceCount: Int { tensor * pipeline * data }

    public var description: String { "TP=\(tensor) PP=\(pipeline) DP=\(data)" }

    /// Ranks of the tensor-parallel group of pipeline stage `stage`, replica `replica`.
    public func tensorGroup(stage: Int, replica: Int) -> [Int] {
        (0..<tensor).map { $0 + stage * tensor + replica * tensor * pipeline }
    }

    /// Ranks of the data-parallel group of tensor rank `tensorRank`, stage `stage`.
    public func dataGroup(tensorRank: Int, stage: Int) -> [Int] {
        (0..<data).map { tensorRank + stage * tensor + $0 * tensor * pipeline }
    }

    /// The first rank of pipeline stage `stage` in replica `replica`.
    public func firstRank(stage: Int, replica: Int) -> Int { stage * tensor + replica * tensor * pipeline }

    /// Every (TP, PP, DP) whose product is `devices`, with TP at most `maxTensor` (heads)
    /// and PP at most `maxPipeline` (layers), ordered by TP, then PP.
    public static func all(devices: Int, maxTensor: Int, maxPipeline: Int) -> [ParallelConfiguration] {
        precondition(devices >= 1, "need at least one device")
        var result: [ParallelConfiguration] = []
        for tensor in 1...devices where devices % tensor == 0 && tensor <= maxTensor {
            let rest = devices / tensor
            for pipeline in 1...rest where rest % pipeline == 0 && pipeline <= maxPipeline {
                result.append(ParallelConfiguration(tensor: tensor, pipeline: pipeline, data: rest / pipeline))
            }
        }
        return result
    }
}
