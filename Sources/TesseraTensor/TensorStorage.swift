import Foundation

/// The raw, 64-byte-aligned float buffer behind a tensor.
///
/// Storage never holds a Swift array: kernels work on the pointer directly, so there is no
/// copy-on-write check or bounds check in a hot loop. Buffers come from `BufferCache` and go back
/// to it when the storage dies, so a training step that allocates the same shapes every iteration
/// reuses the previous step's memory instead of calling `malloc`.
public final class TensorStorage {
    /// First element. Valid for `count` elements (the buffer may be larger).
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of valid elements.
    public let count: Int
    private let capacity: Int

    /// Uninitialised storage for `count` elements.
    init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        let (pointer, capacity) = BufferCache.shared.take(count)
        self.pointer = pointer
        self.count = count
        self.capacity = capacity
    }

    /// Zero-filled storage for `count` elements.
    convenience init(zeroedCount count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: 0, count: count)
    }

    deinit {
        BufferCache.shared.give(pointer, capacity: capacity)
    }

    var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}

/// A caching allocator for float buffers, binned by size class.
///
/// Size classes are powers of two up to 4 Ki elements and then steps of a quarter of the power
/// of two (at most 25% waste), so the buffers of one training step fall into a handful of classes.
/// The cache holds at most `maximumCachedBytes`; beyond that freed buffers go back to the system.
final class BufferCache: @unchecked Sendable {
    static let shared = BufferCache()

    /// 1 GiB: enough for every intermediate of the models Tessera trains on one machine.
    let maximumCachedBytes = 1 << 30
    private var freeLists: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedBytes = 0
    private var lock = pthread_mutex_t()

    private init() {
        pthread_mutex_init(&lock, nil)
    }

    /// The capacity (in elements) that a request for `count` elements is rounded up to.
    static func sizeClass(_ count: Int) -> Int {
        if count <= 16 { return 16 }
        let power = 1 << (Int.bitWidth - (count - 1).leadingZeroBitCount)  // next power of two
        if power <= 4096 { return power }
        let step = power / 8  // power/2 < count <= power; steps of power/8 = quarter of power/2
        return (count + step - 1) / step * step
    }

    func take(_ count: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let capacity = Self.sizeClass(count)
        pthread_mutex_lock(&lock)
        if var list = freeLists[capacity], let pointer = list.popLast() {
            freeLists[capacity] = list
            cachedBytes -= capacity * 4
            pthread_mutex_unlock(&lock)
            return (pointer, capacity)
        }
        pthread_mutex_unlock(&lock)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 4, alignment: 64)
        return (raw.bindMemory(to: Float.self, capacity: capacity), capacity)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        pthread_mutex_lock(&lock)
        if cachedBytes + capacity * 4 <= maximumCachedBytes {
            freeLists[capacity, default: []].append(pointer)
            cachedBytes += capacity * 4
            pthread_mutex_unlock(&lock)
            return
        }
        pthread_mutex_unlock(&lock)
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    /// Returns every cached buffer to the system.
    func release() {
        pthread_mutex_lock(&lock)
        for (_, list) in freeLists {
            for pointer in list { UnsafeMutableRawPointer(pointer).deallocate() }
        }
        freeLists.removeAll()
        cachedBytes = 0
        pthread_mutex_unlock(&lock)
    }
}
