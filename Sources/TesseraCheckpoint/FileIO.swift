#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls behind reading, atomic writing and directory upkeep, each turning `errno` into a
/// `CheckpointError` that names the path and the operation.
enum FileIO {
    /// Reads a whole file. Its size comes from `fstat`, so the allocation is exactly what the file holds.
    static func readFile(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw systemError(path, "cannot open for reading") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw systemError(path, "cannot stat") }
        let size = Int(status.st_size)
        return try [UInt8](unsafeUninitializedCapacity: size) { buffer, initializedCount in
            while initializedCount < size {
                let count = read(descriptor, buffer.baseAddress! + initializedCount, size - initializedCount)
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw systemError(path, "read failed") }
                guard count > 0 else { break }  // The file shrank while we read; the parser reports it.
                initializedCount += count
            }
        }
    }

    /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and
    /// fsyncs the directory, so a crash at any point leaves either the old file or the new one.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporaryPath = "\(directoryOf(path))/.\(fileNameOf(path)).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw systemError(temporaryPath, "cannot create") }
        var succeeded = false
        defer { if !succeeded { unlink(temporaryPath) } }
        do {
            defer { close(descriptor) }
            try bytes.withUnsafeBytes { buffer in
                var written = 0
                while written < buffer.count {
                    let count = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { throw systemError(temporaryPath, "write failed") }
                    written += count
                }
            }
            guard fsync(descriptor) == 0 else { throw systemError(temporaryPath, "fsync failed") }
        }
        guard rename(temporaryPath, path) == 0 else { throw systemError(path, "cannot rename \(temporaryPath) over it") }
        succeeded = true
        try syncDirectory(directoryOf(path))
    }

    /// Makes a rename or unlink in `directory` durable.
    static func syncDirectory(_ directory: String) throws {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw systemError(directory, "cannot open directory") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw systemError(directory, "fsync of directory failed") }
    }

    /// Creates `path` and its missing parents.
    static func createDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw systemError(path, "cannot create directory") }
        }
    }

    /// The names in a directory, without `.` and `..`. A missing directory lists as empty: a run
    /// that has not saved yet simply has no checkpoints.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            if errno == ENOENT { return [] }
            throw systemError(path, "cannot list directory")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func removeFile(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw systemError(path, "cannot remove") }
    }

    /// Points `linkPath` at the same bytes as `path` atomically: a hard link when the filesystem
    /// allows (no copy, and it survives rotation deleting `path`), otherwise a full atomic copy.
    static func replaceWithLink(to path: String, at linkPath: String) throws {
        let temporaryPath = "\(directoryOf(linkPath))/.\(fileNameOf(linkPath)).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if link(path, temporaryPath) == 0 {
            guard rename(temporaryPath, linkPath) == 0 else {
                let error = systemError(linkPath, "cannot rename \(temporaryPath) over it")
                unlink(temporaryPath)
                throw error
            }
            try syncDirectory(directoryOf(linkPath))
        } else {
            try writeAtomically(try readFile(path), to: linkPath)
        }
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func fileNameOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private static func systemError(_ path: String, _ operation: String) -> CheckpointError {
        let reason = String(cString: strerror(errno))
        return CheckpointError(path: path, kind: .io, problem: "\(operation): \(reason)")
    }
}
