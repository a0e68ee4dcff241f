/// The kinds of communication a configuration performs.
public enum CommunicationKind: String, Sendable, Codable {
    /// Tensor-parallel all-reduce of the residual stream: 2 per layer forward (after
    /// attention and after the MLP), 2 more in backward (training also counts the
    /// vocabulary-parallel embedding and loss here).
    case tensorAllReduce = "tensor_all_reduce"
    /// All-reduce of the vocabulary-parallel embedding's output (first stage).
    case embeddingAllReduce = "embedding_all_reduce"
    /// All-gather of the vocabulary-parallel LM head's f32 logits for sampling (last stage).
    case logitsAllGather = "logits_all_gather"
    /// Pipeline point-to-point send of activations (and, in training, their gradients)
    /// across each stage boundary, once per micro-batch.
    case pipelineSendRecv = "pipeline_send_recv"
    /// Data-parallel gradient all-reduce, once per training step, overlapped with backward.
    case dataGradientAllReduce = "data_gradient_all_reduce"
}

/// Which link a communication runs on.
public enum LinkKind: String, Sendable, Codable {
    case intraNode = "intra_node"
    case interNode = "inter_node"
    case none
}

/// One kind of communication of one configuration: how big, how often, how long.
///
/// `occurrences` counts messages per unit (`CommunicationAnalysis.unit`) seen by one
/// rank on the busiest stage (pipeline sends: one per stage boundary, summed over all).
public struct CommunicationItem: Sendable, Equatable, Codable {
    public var kind: CommunicationKind
    /// Messages (collective calls or sends) per unit.
    public var occurrences: Double
    /// Payload of one message, bytes (the full buffer of a collective, not a ring chunk).
    /// Ring all-gather: the gathered result.
    public var messageBytes: Double
    /// Bytes each participating rank puts on the wire per unit (ring all-reduce:
    /// `2(n-1)/n` x payload per message; recursive doubling: the payload per exchange).
    public var bytesSentPerRank: Double
    /// Seconds per unit on the critical path.
    public var seconds: Double
    public var algorithm: AllReduceAlgorithm
    public var link: LinkKind

    enum CodingKeys: String, CodingKey {
        case kind, occurrences, seconds, algorithm, link
        case messageBytes = "message_bytes"
        case bytesSentPerRank = "bytes_sent_per_rank"
    }
}

/// The communication of one configuration per unit of work.
public struct CommunicationAnalysis: Sendable, Equatable, Codable {
    /// `"decode step"` (each sequence of a replica gains one token) or `"training step"`.
    public var unit: String
    /// Tokens produced (decode) or consumed (training) per unit by one replica.
    public var tokensPerUnit: Double
    public var items: [CommunicationItem]

    /// Bytes sent per rank per token, over all kinds.
    public var bytesPerToken: Double {
        items.reduce(0) { $0 + $1.bytesSentPerRank } / max(tokensPerUnit, 1)
    }

    enum CodingKeys: String, CodingKey {
        case unit, items
        case tokensPerUnit = "tokens_per_unit"
    }
}
