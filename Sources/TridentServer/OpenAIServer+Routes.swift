import Foundation
import Hummingbird

extension OpenAIServer {
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.get("/health") { _, _ in self.health() }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: self.metrics.render())))
        }
        let v1 = router.group("v1").add(middleware: APIKeyMiddleware(key: configuration.apiKey))
        v1.get("models") { _, _ in self.models() }
        v1.post("completions") { request, _ in await self.completions(request) }
        v1.post("chat/completions") { request, _ in await self.chat(request) }
        return router
    }

    /// 200 when ready, 503 while loading, draining or after a failure.
    func health() -> Response {
        let state = engine.currentState
        guard state == .ready else { return APIError.unavailable(ChoiceStreams.describe(state)).response }
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
    }

    func models() -> Response {
        let model = ModelList.Model(id: configuration.servedModelName, created: created,
                                    maxModelLen: engine.currentLimits?.capacity)
        return OpenAIEncoding.response(ModelList(data: [model]))
    }
}

/// Requires `Authorization: Bearer <key>` when a key is set (401 otherwise). Compares in
/// constant time.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String?

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key else { return try await next(request, context) }
        let given = request.headers[.authorization] ?? ""
        guard Self.same(Array(given.utf8), Array("Bearer \(key)".utf8)) else { return APIError.unauthorized.response }
        return try await next(request, context)
    }

    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

/// Counts every request by endpoint and status, and answers unknown routes and other
/// framework errors with an OpenAI error object.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    static var endpoints: Set<String> {
        ["/health", "/metrics", "/v1/models", "/v1/completions", "/v1/chat/completions"]
    }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let endpoint = Self.endpoints.contains(path) ? path : "other"
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            let status = error.status
            let message = status == .notFound ? "no route for \(request.method) \(path)" : "\(status.reasonPhrase)"
            response = APIError(status: status, message: message,
                                type: status.code >= 500 ? "server_error" : "invalid_request_error").response
        }
        metrics.request(endpoint: endpoint, status: response.status.code)
        return response
    }
}
