/// The tag of every kind of point-to-point message Trident sends, in one place, so that no two
/// kinds can collide on one communicator.
public enum MessageTag: Int, Sendable, CaseIterable {
    /// Activations between pipeline stages (`ActivationFrame`).
    case activations = 0x5050_4143
    /// Gradients flowing backwards between pipeline stages.
    case gradients = 0x5050_4752
    /// A tensor rank's slice on its way to tensor rank 0 (`TensorParallelMappings.gatherToFirstRank`).
    case gatherToFirstRank = 0x4C4F_4749
    /// A replica's logits on their way to the driver (world rank 0).
    case logitsToDriver = 0x5452_4C47
}
