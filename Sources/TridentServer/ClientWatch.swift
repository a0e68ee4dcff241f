import Foundation
import Hummingbird

/// Notices a client that closes its connection while its request is still being answered, so
/// that the request's sequences are cancelled (their slots and KV blocks freed) at once rather
/// than generated to the end for nobody. Thread-safe.
final class ClientWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    private var disarmed = false
    private var actions: [@Sendable () -> Void] = []

    /// Runs `action` when the client leaves (at once if it has already left).
    func onClose(_ action: @escaping @Sendable () -> Void) {
        let left = lock.withLock { () -> Bool in
            if !closed { actions.append(action) }
            return closed
        }
        if left { action() }
    }

    /// Whether the client has closed its connection.
    var clientLeft: Bool { lock.withLock { closed } }

    /// The client closed its side of the connection: runs every registered action once
    /// (none after `disarm`).
    func close() {
        let run = lock.withLock { () -> [@Sendable () -> Void] in
            guard !disarmed else { return [] }
            closed = true
            defer { actions = [] }
            return actions
        }
        for action in run { action() }
    }

    /// The answer is ready: the watch stops (ending it looks like a closed input, and a
    /// streamed answer notices a client that leaves by its failing writes instead).
    func disarm() { lock.withLock { disarmed = true; actions = [] } }
}

extension APIError {
    /// 499 (nginx's "client closed request"): only counted in the metrics, nobody reads it.
    static let clientClosed = APIError(status: .init(code: 499, reasonPhrase: "Client Closed Request"),
                                       message: "the client closed the connection", type: "client_closed")
}

extension OpenAIServer {
    /// Reads the body of `request` (at most `bodyLimit` bytes) as a JSON object and runs
    /// `handle` with it while watching the connection: when the client closes it before the
    /// answer is ready, `watch` fires (the handler registers what to cancel). The connection is
    /// closed after the answer, an error answer included (the watch consumed the rest of its
    /// input), and the answer says so: a client that reused it would see it drop.
    /// Errors are answered as `answering` does (413 past the limit, 400 for a body that is not a
    /// JSON object, or whatever `handle` throws).
    func watchingClient(_ request: Request,
                        _ handle: (RequestFields, ClientWatch) async throws -> Response) async -> Response {
        var response = await answering {
            let limit = configuration.bodyLimit
            if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
                throw APIError.tooLarge(limit: limit)
            }
            let watch = ClientWatch()
            return try await request.body.consumeWithInboundCloseHandler { body in
                let buffer: ByteBuffer
                do {
                    buffer = try await body.collect(upTo: limit)
                } catch {
                    throw APIError.tooLarge(limit: limit)
                }
                defer { watch.disarm() }
                return try await handle(try RequestFields(body: Array(buffer.readableBytesView)), watch)
            } onInboundClosed: {
                watch.close()
            }
        }
        response.headers[.connection] = "close"
        return response
    }
}
