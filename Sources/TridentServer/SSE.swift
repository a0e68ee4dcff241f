import Foundation
import Hummingbird

/// Server-sent events as the OpenAI streaming API frames them: `data: <json>\n\n` per chunk and
/// a final `data: [DONE]\n\n`.
enum SSE {
    static let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]

    static func event(_ value: some Encodable) -> ByteBuffer {
        let json = (try? OpenAIEncoding.encoder.encode(value)) ?? Data("{}".utf8)
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }

    /// An error inside an open stream (the status line was already sent).
    static func error(_ error: APIError) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(error.json)
        buffer.writeString("\n\n")
        return buffer
    }

    static let done = ByteBuffer(string: "data: [DONE]\n\n")
}

/// JSON encoding of responses.
enum OpenAIEncoding {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let json = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }

    static func requestID(_ prefix: String) -> String {
        prefix + "-" + String((0..<24).map { _ in "0123456789abcdef".randomElement()! })
    }

    static var now: Int { Int(Date().timeIntervalSince1970) }
}
