/// A point-to-point link described by the alpha-beta model: sending `n` bytes takes
/// `latency + n / bandwidth` seconds.
public struct Link: Sendable, Equatable, Codable {
    /// Bytes per second in one direction.
    public var bandwidth: Double
    /// Seconds of fixed cost per message (alpha).
    public var latency: Double

    public init(bandwidth: Double, latency: Double) {
        precondition(bandwidth > 0, "link bandwidth must be positive")
        precondition(latency >= 0, "link latency must be non-negative")
        self.bandwidth = bandwidth
        self.latency = latency
    }

    /// Seconds to send one message of `bytes`.
    public func sendTime(bytes: Double) -> Double { latency + bytes / bandwidth }
}

/// The machines: identical devices grouped into nodes with a fast link inside a node and
/// a slower one between nodes.
public struct Cluster: Sendable, Equatable {
    /// Total number of devices (world size).
    public var deviceCount: Int
    /// Devices that share the intra-node link; consecutive ranks fill a node first.
    public var devicesPerNode: Int
    /// Usable memory of one device, bytes.
    public var memoryBytes: Double
    /// Sustained arithmetic rate of one device for the compute dtype, FLOP/s.
    public var flopsPerSecond: Double
    /// Sustained memory bandwidth of one device, bytes/s.
    public var memoryBandwidth: Double
    /// Link between devices of one node.
    public var intraNode: Link
    /// Link between devices of different nodes.
    public var interNode: Link
    /// Whether a device streams memory while it computes, so a pass costs the larger of its
    /// compute and memory times (a GPU roofline); when false they add up (a CPU core that
    /// dequantizes weights and then multiplies them).
    public var overlapsComputeAndMemory: Bool

    public init(deviceCount: Int, devicesPerNode: Int, memoryBytes: Double, flopsPerSecond: Double,
                memoryBandwidth: Double, intraNode: Link, interNode: Link, overlapsComputeAndMemory: Bool = true) {
        precondition(deviceCount >= 1, "need at least one device")
        precondition(devicesPerNode >= 1, "need at least one device per node")
        precondition(memoryBytes > 0 && flopsPerSecond > 0 && memoryBandwidth > 0,
                     "memory, compute rate and memory bandwidth must be positive")
        self.deviceCount = deviceCount
        self.devicesPerNode = devicesPerNode
        self.memoryBytes = memoryBytes
        self.flopsPerSecond = flopsPerSecond
        self.memoryBandwidth = memoryBandwidth
        self.intraNode = intraNode
        self.interNode = interNode
        self.overlapsComputeAndMemory = overlapsComputeAndMemory
    }

    /// Seconds of a pass with `flops` of arithmetic and `bytes` of memory traffic on one device.
    public func passTime(flops: Double, bytes: Double) -> Double {
        let compute = flops / flopsPerSecond, memory = bytes / memoryBandwidth
        return overlapsComputeAndMemory ? max(compute, memory) : compute + memory
    }

    /// Node that holds world rank `rank`.
    public func node(ofRank rank: Int) -> Int { rank / devicesPerNode }

    /// The link a collective over `ranks` runs on: the inter-node link as soon as the group
    /// spans two nodes (its slowest hop bounds a ring), else the intra-node link.
    public func link(for ranks: [Int]) -> Link {
        guard let first = ranks.first else { return intraNode }
        let node = self.node(ofRank: first)
        return ranks.allSatisfy { self.node(ofRank: $0) == node } ? intraNode : interNode
    }
}
