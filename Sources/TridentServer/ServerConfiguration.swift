/// How `trident serve` answers: where it listens, who may call it, and its limits.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests); `OpenAIServer.start` reports the one bound.
    public var port = 8000
    /// Required as `Authorization: Bearer <key>` on `/v1/...` when set.
    public var apiKey: String?
    /// The model name `/v1/models` lists and requests must name (or leave out).
    public var servedModelName: String
    /// Largest request body accepted (413 beyond it).
    public var bodyLimit = 2 << 20
    /// Longest SIGTERM drain before open requests are failed.
    public var drainTimeout: Duration = .seconds(30)
    /// Closes connections idle this long (slow clients that never finish their headers).
    public var idleTimeout: Duration = .seconds(60)

    public init(servedModelName: String) {
        self.servedModelName = servedModelName
    }
}
