import Foundation
import Hummingbird
import Logging
import TridentEngine
import TridentTokenizer

/// The OpenAI-compatible HTTP front of an `EngineLoop`: `/v1/models`, `/v1/completions`,
/// `/v1/chat/completions` (plain or streamed as server-sent events), `/health` and `/metrics`.
///
/// The HTTP side runs on Hummingbird's event loops and Swift tasks; the engine runs on the
/// driver thread (`EngineLoop.run`). Start the server before the model loads: `/health` says
/// 503 until the engine is ready.
public final class OpenAIServer: @unchecked Sendable {
    public let configuration: ServerConfiguration
    public let engine: EngineLoop
    public let tokenizer: Tokenizer
    let logger: Logger
    let formatter: LogprobFormatter
    /// When the server was made (`created` of the model list).
    let created = OpenAIEncoding.now

    public init(configuration: ServerConfiguration, engine: EngineLoop, tokenizer: Tokenizer, logger: Logger) {
        self.configuration = configuration
        self.engine = engine
        self.tokenizer = tokenizer
        self.logger = logger
        formatter = LogprobFormatter(tokenizer: tokenizer)
    }

    public var metrics: ServerMetrics { engine.metrics }

    /// Builds the Hummingbird application (routes, authentication, request metrics).
    /// - Parameter onRunning: called with the bound port once the server listens.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let idle = configuration.idleTimeout.components.seconds
        return Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: .seconds(idle))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                 serverName: "trident"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// - Throws: `APIError` 404 when `model` names another model than the one served.
    func checkModel(_ model: String?) throws(APIError) {
        guard let model, model != configuration.servedModelName else { return }
        throw .modelNotFound(model, served: configuration.servedModelName)
    }

    /// - Throws: `APIError` 503 unless the engine is ready.
    func readyLimits() throws(APIError) -> EngineLoop.Limits {
        let state = engine.currentState
        guard state == .ready, let limits = engine.currentLimits else {
            throw .unavailable(ChoiceStreams.describe(state))
        }
        return limits
    }

    /// Runs `body`, answering an `APIError` it throws (or any other error, as a 500) as JSON.
    func answering(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as APIError {
            return error.response
        } catch {
            logger.error("request failed", metadata: ["error": "\(error)"])
            return APIError(status: .internalServerError, message: "internal error: \(error)", type: "server_error").response
        }
    }
}
