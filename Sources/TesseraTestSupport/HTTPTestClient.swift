import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client for tests of the dashboard server: sends one HTTP/1.1 request on
/// 127.0.0.1 and reads what comes back, never waiting past a deadline (so a test fails, it does
/// not hang). It reads a long-lived response (a server-sent event stream) as it arrives.
public final class HTTPTestClient {
    private let socketDescriptor: Int32
    /// Everything received so far, headers included.
    public private(set) var received = Data()
    public private(set) var isClosed = false

    /// Connects to `port` on `host` and sends `GET path`.
    public init(port: Int, path: String, host: String = "127.0.0.1") throws {
        socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw HTTPTestError("socket(): errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socketDescriptor)
            throw HTTPTestError("cannot connect to \(host):\(port): errno \(errno)")
        }
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n"
        let sent = request.withCString { send(socketDescriptor, $0, strlen($0), 0) }
        guard sent == request.utf8.count else { throw HTTPTestError("could not send the request") }
    }

    deinit { close(socketDescriptor) }

    /// Ends the connection from this side (a client that goes away mid-stream).
    public func disconnect() {
        shutdown(socketDescriptor, Int32(SHUT_RDWR))
        isClosed = true
    }

    /// Reads until `condition` holds for the text so far, the server closes, or `seconds` pass.
    /// Returns whether `condition` held.
    @discardableResult
    public func read(until condition: (String) -> Bool, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition(text) {
            guard !isClosed else { return false }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var descriptor = pollfd(fd: socketDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(min(remaining, 1) * 1000)) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(socketDescriptor, &buffer, buffer.count, 0)
            if count <= 0 {
                isClosed = true
            } else {
                received.append(contentsOf: buffer[0..<count])
            }
        }
        return true
    }

    public var text: String { String(decoding: received, as: UTF8.self) }

    /// The status code of the response's first line.
    public var status: Int? {
        guard let line = text.split(separator: "\r\n").first else { return nil }
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }

    /// The body of a response the server closed (Content-Length framing, as the dashboard sends
    /// fixed bodies).
    public var body: String {
        guard let range = text.range(of: "\r\n\r\n") else { return "" }
        return String(text[range.upperBound...])
    }

    /// The JSON of every server-sent event named `name` so far, in order.
    public func events(named name: String) -> [[String: Any]] {
        var result: [[String: Any]] = [], current: String?
        // By scalars: Swift's Character "\r\n" is one, and chunk headers end in it.
        for line in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = String(String.UnicodeScalarView(line)).trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            if trimmed.hasPrefix("event: ") {
                current = String(trimmed.dropFirst(7))
            } else if trimmed.hasPrefix("data: "), current == name {
                if let object = try? JSONSerialization.jsonObject(with: Data(trimmed.dropFirst(6).utf8)) as? [String: Any] {
                    result.append(object)
                }
                current = nil
            }
        }
        return result
    }

    /// `GET path` to completion: the status and the body.
    public static func get(port: Int, path: String, seconds: Double = 20) throws -> (status: Int, body: String) {
        let client = try HTTPTestClient(port: port, path: path)
        client.read(until: { _ in false }, seconds: seconds)
        guard client.isClosed, let status = client.status else {
            throw HTTPTestError("GET \(path): no complete response within \(seconds) s")
        }
        return (status, client.body)
    }
}

public struct HTTPTestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
