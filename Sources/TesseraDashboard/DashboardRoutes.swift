import Foundation
import Hummingbird
import Prometheus

/// The dashboard's HTTP routes over its run feeds.
struct DashboardRoutes: Sendable {
    let feeds: [RunFeed]
    let registry: PrometheusCollectorRegistry

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/") { _, _ in
            Self.text(DashboardPage.html, type: "text/html; charset=utf-8")
        }
        router.get("/dashboard.js") { _, _ in
            Self.text(DashboardPage.script, type: "text/javascript; charset=utf-8")
        }
        router.get("/api/runs") { _, _ in
            var runs: [[String: Any]] = []
            for feed in feeds { runs.append(await feed.summaryObject()) }
            let data = (try? JSONSerialization.data(withJSONObject: ["runs": runs], options: [.sortedKeys])) ?? Data()
            return Self.text(String(decoding: data, as: UTF8.self), type: "application/json")
        }
        router.get("/events") { request, _ in
            let name = request.uri.queryParameters.get("run")
            guard let feed = name.map({ name in feeds.first { $0.name == name } }) ?? feeds.first else {
                return Self.text("no run named '\(name ?? "")' (runs: \(feeds.map(\.name).joined(separator: ", ")))\n",
                                 type: "text/plain; charset=utf-8", status: .notFound)
            }
            let stream = await feed.subscribe()
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            // A write to a client that left throws: that ends this stream (and its subscription) only.
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                for await message in stream {
                    try await writer.write(ByteBuffer(string: message))
                }
                try await writer.finish(nil)
            })
        }
        router.get("/runs/:run/images/:file") { _, context in
            let runName = context.parameters.get("run") ?? "", file = context.parameters.get("file") ?? ""
            guard let feed = feeds.first(where: { $0.name == runName }), let url = await feed.servesImage(file),
                  let data = try? Data(contentsOf: url) else {
                return Self.text("no image \(file) in run '\(runName)'\n", type: "text/plain; charset=utf-8", status: .notFound)
            }
            var headers = HTTPFields()
            headers[.contentType] = "image/png"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/metrics") { _, _ in
            // Prometheus's text exposition format, version 0.0.4.
            Self.text(registry.emitToString(), type: "text/plain; version=0.0.4; charset=utf-8")
        }
        return router
    }

    static func text(_ body: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
