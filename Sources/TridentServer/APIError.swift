import Foundation
import Hummingbird

/// An error answered as OpenAI does: `{"error": {"message", "type", "param", "code"}}` with an
/// HTTP status.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// 400: a request that is malformed or out of range.
    public static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    public static func wrongType(_ param: String, expected: String, found: JSONValue) -> APIError {
        invalid("'\(param)' must be \(expected), found \(found.typeName)", param: param, code: "invalid_type")
    }

    public static let unauthorized = APIError(
        status: .unauthorized, message: "missing or wrong API key (send 'Authorization: Bearer <key>')",
        type: "authentication_error", code: "invalid_api_key")

    public static func modelNotFound(_ name: String, served: String) -> APIError {
        APIError(status: .notFound, message: "the model '\(name)' does not exist; this server serves '\(served)'",
                 type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    public static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, message: message, type: "server_error", code: "unavailable")
    }

    public static func tooManyRequests(_ message: String) -> APIError {
        APIError(status: .tooManyRequests, message: message, type: "rate_limit_error", code: "queue_full")
    }

    public static func tooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "the request body is larger than \(limit) bytes",
                 type: "invalid_request_error", code: "body_too_large")
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    /// The JSON body, `{"error": {...}}`.
    public var json: Data {
        (try? JSONSerialization.data(withJSONObject: ["error": [
            "message": message, "type": type, "param": param ?? NSNull(), "code": code ?? NSNull(),
        ] as [String: Any]], options: [.sortedKeys])) ?? Data("{\"error\":{}}".utf8)
    }

    /// The error as a JSON response.
    public var response: Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }
}
